// PWM devices on the sysfs driver and the PWM twin: safe value at start and shutdown, setPwm
// (duty, frequency, a servo's µs within limits) reported as telemetry and attribute, the shared
// attribute, refusals as clear RPC errors, and the dispatcher routing setPwm like any RPC.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openSysfsPwm } from "../../../drivers/pwm/sysfsPwm.ts";
import type { PwmController } from "../../../drivers/pwm/types.ts";
import { SimSysfs } from "../../../drivers/sysfs/simSysfs.ts";
import { pwmDeviceSchema } from "../../../server/config/schema.ts";
import { MemoryDeviceMemory } from "../../../server/devices/deviceContext.ts";
import { PwmDevice } from "../../../server/devices/pwmDevice.ts";
import { DeviceRuntime } from "../../../server/devices/runtime.ts";
import { DeviceRpcDispatcher } from "../../../server/rpc/dispatcher.ts";
import { EventBus } from "../../../server/eventBus.ts";
import type { EventLogEntry } from "../../../server/events.ts";
import type { KeyValues, TsRecord } from "../../../server/gateway/protocol.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { until } from "../../fakes/waitFor.ts";

const CONFIG = {
  id: "pwm",
  kind: "pwm",
  outputs: [
    { pin: 18, label: "fan", frequencyHz: 25_000, safeDuty: 0.2 },
    { pin: 13, label: "valve", servo: { minUs: 1000, maxUs: 2000, safeUs: 1200 } },
  ],
};

describe("PwmDevice", () => {
  let sim: SimSysfs;
  let bus: EventBus;
  let telemetry: TsRecord[];
  let attributes: KeyValues[];
  let memory: MemoryDeviceMemory;
  let dev: PwmDevice | null;

  beforeEach(async () => {
    sim = await SimSysfs.create();
    bus = new EventBus();
    telemetry = [];
    attributes = [];
    memory = new MemoryDeviceMemory();
    bus.on({}, "telemetry", (_d, r) => telemetry.push(r));
    bus.on({}, "clientAttributes", (_d, v) => attributes.push(v));
    dev = null;
  });
  afterEach(async () => {
    await dev?.stop();
    await sim.remove();
  });

  const make = async (cfg: unknown = CONFIG): Promise<PwmDevice> => {
    const parsed = pwmDeviceSchema.parse(cfg);
    dev = new PwmDevice(parsed, "Pwm", () => openSysfsPwm(sim.io, sim.pwmClass), { bus, log: silentLogger(), memory });
    await dev.start();
    return dev;
  };

  test("outputs start at their safe value, reported; the snapshot describes the sliders", async () => {
    const d = await make();
    // 25 kHz = 40 000 ns; 20 % = 8 000 ns. The servo: 50 Hz, 1.2 ms.
    assert.deepEqual(sim.pwm.channel(0), { periodNs: 40_000, dutyNs: 8_000, enabled: true });
    assert.deepEqual(sim.pwm.channel(1), { periodNs: 20_000_000, dutyNs: 1_200_000, enabled: true });
    assert.deepEqual(telemetry.at(-1)?.values, { fan: 0.2, valve: 1200 });
    assert.deepEqual(attributes.at(-1), { fan: 0.2, valve: 1200 });
    assert.deepEqual(d.snapshot().pwm, [
      { pin: 18, label: "fan", mode: "duty", min: 0, max: 1, step: 0.01, unit: "" },
      { pin: 13, label: "valve", mode: "servo", min: 1000, max: 2000, step: 10, unit: "µs" },
    ]);
  });

  test("setPwm sets duty and frequency, reported as telemetry and attribute", async () => {
    const d = await make();
    assert.deepEqual(await d.rpc.setPwm!({ pin: 18, duty: 0.4 }), {
      success: true,
      pin: 18,
      label: "fan",
      frequencyHz: 25_000,
      duty: 0.4,
    });
    assert.deepEqual(sim.pwm.channel(0), { periodNs: 40_000, dutyNs: 16_000, enabled: true });
    assert.deepEqual(telemetry.at(-1)?.values, { fan: 0.4 });
    assert.deepEqual(attributes.at(-1), { fan: 0.4 });
    await d.rpc.setPwm!({ pin: "18", frequencyHz: 100 });
    assert.deepEqual(
      sim.pwm.channel(0),
      { periodNs: 10_000_000, dutyNs: 4_000_000, enabled: true },
      "duty kept, period changed",
    );
    assert.deepEqual(attributes.at(-1), { fanFrequencyHz: 100 });
  });

  test("a servo takes a pulse in µs within its limits; anything else is refused with the reason", async () => {
    const d = await make();
    await d.rpc.setPwm!({ pin: 13, pulseUs: 1750 });
    assert.equal(sim.pwm.channel(1)?.dutyNs, 1_750_000);
    await assert.rejects(d.rpc.setPwm!({ pin: 13, pulseUs: 2500 }), {
      code: "BAD_PARAMS",
      message: "params.pulseUs 2500 is outside valve's limits 1000-2000 µs",
    });
    await assert.rejects(d.rpc.setPwm!({ pin: 13, duty: 0.5 }), /params.pulseUs must be a number 1000-2000/);
    await assert.rejects(d.rpc.setPwm!({ pin: 13, pulseUs: 1500, frequencyHz: 60 }), /its frequency is fixed/);
    await assert.rejects(d.rpc.setPwm!({ pin: 18, duty: 1.5 }), /params.duty must be a number 0-1/);
    await assert.rejects(d.rpc.setPwm!({ pin: 17, duty: 0.5 }), { code: "NOT_ALLOWED" });
    assert.equal(sim.pwm.channel(1)?.dutyNs, 1_750_000, "refusals change nothing");
  });

  test("the shared attribute sets the value, is validated, and is kept for the next start", async () => {
    const d = await make();
    d.applyShared({ fan: 0.75, valve: 5000 }, []);
    await until(() => attributes.at(-1)?.fan === 0.75, "the shared value applied and reported");
    assert.equal(sim.pwm.channel(0)?.dutyNs, 30_000);
    assert.equal(sim.pwm.channel(1)?.dutyNs, 1_200_000, "an out-of-limits servo value is ignored");
    assert.deepEqual(memory.load("pwm"), { fan: 0.75 });
  });

  test("shutdown returns to the safe value; a zero safe value stops and releases the channel", async () => {
    const d = await make({ ...CONFIG, outputs: [{ pin: 18, label: "fan" }, CONFIG.outputs[1]] });
    await d.rpc.setPwm!({ pin: 18, duty: 0.9 });
    await d.rpc.setPwm!({ pin: 13, pulseUs: 1900 });
    await d.stop();
    dev = null;
    assert.equal(sim.pwm.channel(0), undefined, "safe duty 0: stopped and unexported");
    assert.deepEqual(
      sim.pwm.channel(1),
      { periodNs: 20_000_000, dutyNs: 1_200_000, enabled: true },
      "the servo holds its safe pulse",
    );
    assert.deepEqual(telemetry.at(-1)?.values, { fan: 0, valve: 1200 });
  });

  test("no PWM chip (overlay missing): the device is offline with the overlay to add, and RPCs get an error reply", async () => {
    const parsed = pwmDeviceSchema.parse(CONFIG);
    const empty = await SimSysfs.create();
    await empty.remove(); // no /sys/class/pwm at all
    dev = new PwmDevice(parsed, "Pwm", () => openSysfsPwm(empty.io, empty.pwmClass), {
      bus,
      log: silentLogger(),
      memory,
    });
    await dev.start();
    const snap = dev.snapshot();
    assert.equal(snap.health, "offline");
    assert.match(snap.error ?? "", /dtoverlay=pwm-2chan/);
    await assert.rejects(dev.rpc.setPwm!({ pin: 18, duty: 0.5 }), {
      code: "DEVICE_ERROR",
      message: "PWM GPIO 18 is not open",
    });
  });

  test("after safeStateAfterOfflineSec without ThingsBoard the outputs go to their safe value; back online cancels", async (t) => {
    const d = await make({ ...CONFIG, safeStateAfterOfflineSec: 30 });
    await d.rpc.setPwm!({ pin: 18, duty: 0.9 });
    t.mock.timers.enable({ apis: ["setTimeout"] });
    d.setOnline(false);
    t.mock.timers.tick(29_000);
    d.setOnline(true);
    t.mock.timers.tick(60_000);
    assert.equal(sim.pwm.channel(0)?.dutyNs, 36_000, "reconnected in time: unchanged");
    const safed = new Promise<void>((resolve) => bus.on({}, "clientAttributes", (_d, v) => v.fan === 0.2 && resolve()));
    d.setOnline(false);
    t.mock.timers.tick(30_000);
    await safed;
    assert.equal(sim.pwm.channel(0)?.dutyNs, 8_000);
  });

  test("a safe value that cannot be applied, offline or at shutdown, is logged, reported and degrades the device", async (t) => {
    let failWrites = false;
    const flaky = async (): Promise<PwmController> => {
      const c = await openSysfsPwm(sim.io, sim.pwmClass);
      return {
        description: c.description,
        pins: c.pins,
        close: () => c.close(),
        open: async (pin) => {
          const out = await c.open(pin);
          const refuse = () => Promise.reject(new Error("EIO: i/o error"));
          return {
            pin: out.pin,
            channel: out.channel,
            set: (p, d) => (failWrites ? refuse() : out.set(p, d)),
            enable: (on) => (failWrites ? refuse() : out.enable(on)),
            close: () => out.close(),
          };
        },
      };
    };
    const errors: string[] = [];
    const log = silentLogger();
    log.root.sinks.set((r) => errors.push(r.msg), "error");
    const events: EventLogEntry[] = [];
    bus.on({}, "eventLog", (e) => events.push(e));
    const d = new PwmDevice(pwmDeviceSchema.parse({ ...CONFIG, safeStateAfterOfflineSec: 30 }), "Pwm", flaky, {
      bus,
      log,
      memory,
    });
    dev = d;
    await d.start();
    await d.rpc.setPwm!({ pin: 18, duty: 0.9 });
    failWrites = true;
    t.mock.timers.enable({ apis: ["setTimeout"] });
    d.setOnline(false);
    t.mock.timers.tick(30_000);
    t.mock.timers.reset();
    await until(() => events.length > 0, "the failure in the event log");
    const text = "fan (GPIO 18) could not be set to its safe value after 30 s offline: EIO: i/o error";
    assert.deepEqual(errors, [`Pwm: ${text}`]);
    assert.deepEqual(
      events.map((e) => [e.kind, e.device, e.text, e.ok]),
      [["error", "Pwm", text, false]],
    );
    assert.equal(sim.pwm.channel(0)?.dutyNs, 36_000, "the fan still runs at 0.9");
    assert.equal(d.snapshot().health, "degraded");
    assert.equal(d.snapshot().error, text);
    // Set again once the driver answers: healthy again.
    failWrites = false;
    await d.rpc.setPwm!({ pin: 18, duty: 0.5 });
    assert.equal(d.snapshot().health, "ok");
    assert.equal(d.snapshot().error, undefined);
    // At shutdown too.
    await d.rpc.setPwm!({ pin: 18, duty: 0.9 });
    failWrites = true;
    await d.stop();
    assert.equal(events.at(-1)?.text, "fan (GPIO 18) could not be set to its safe value at shutdown: EIO: i/o error");
    dev = null;
  });

  test("setPwm goes through the one RPC dispatcher like any other method", async () => {
    const runtime = new DeviceRuntime({ bus, log: silentLogger(), memory });
    await runtime.build([pwmDeviceSchema.parse(CONFIG)], "unit", {
      gpio: () => Promise.reject(new Error("no gpio")),
      openSensor: () => Promise.reject(new Error("no sensors")),
      pwm: () => openSysfsPwm(sim.io, sim.pwmClass),
    });
    await runtime.start();
    try {
      const dispatcher = new DeviceRpcDispatcher(runtime, bus, silentLogger());
      const ok = await dispatcher.dispatch({
        device: "unit pwm",
        method: "setPwm",
        params: { pin: 18, duty: 0.5 },
        source: "thingsboard",
      });
      assert.deepEqual(ok, {
        ok: true,
        data: { success: true, pin: 18, label: "fan", frequencyHz: 25_000, duty: 0.5 },
      });
      const bad = await dispatcher.dispatch({
        device: "pwm",
        method: "setPwm",
        params: { pin: 18 },
        source: "dashboard",
      });
      assert.deepEqual(bad, {
        ok: false,
        data: { success: false, error: "params.duty must be a number 0-1", code: "BAD_PARAMS" },
      });
      const status = await dispatcher.dispatch({ device: "pwm", method: "getPwm", params: {}, source: "dashboard" });
      assert.deepEqual(status.data, {
        "18": { pin: 18, label: "fan", frequencyHz: 25_000, duty: 0.5 },
        "13": { pin: 13, label: "valve", frequencyHz: 50, pulseUs: 1200 },
      });
    } finally {
      await runtime.stop();
    }
  });

  test("config: only PWM pins, servo limits that make sense and fit the period", () => {
    const err = (cfg: unknown) => {
      const r = pwmDeviceSchema.safeParse(cfg);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    assert.deepEqual(err({ id: "p", kind: "pwm", outputs: [{ pin: 17 }] }), [
      "outputs.0.pin: expected a hardware PWM pin: 12, 13, 18 or 19",
    ]);
    assert.deepEqual(err({ id: "p", kind: "pwm", outputs: [{ pin: 18, servo: { minUs: 2000, maxUs: 1000 } }] }), [
      "outputs.0.servo.maxUs: must be above minUs",
    ]);
    assert.deepEqual(err({ id: "p", kind: "pwm", outputs: [{ pin: 18, servo: { safeUs: 500 } }] }), [
      "outputs.0.servo.safeUs: must be within minUs-maxUs",
    ]);
    assert.deepEqual(err({ id: "p", kind: "pwm", outputs: [{ pin: 18, frequencyHz: 1000, servo: {} }] }), [
      "outputs.0.frequencyHz: a 2000 µs pulse does not fit a 1000 µs period",
    ]);
    assert.deepEqual(err({ id: "p", kind: "pwm", outputs: [] }), ["outputs: expected at least one output"]);
  });
});
