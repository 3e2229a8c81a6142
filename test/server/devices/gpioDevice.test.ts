// GPIO devices on the simulated header: RPC semantics, safe state, shared attributes kept
// across restarts, active-low outputs, inputs reporting edges, outputs reported on every change.
import { beforeEach, describe, test, mock } from "node:test";
import assert from "node:assert/strict";
import { SimGpioChip } from "../../../drivers/gpio/sim.ts";
import type { GpioChip } from "../../../drivers/gpio/types.ts";
import type { EventLogEntry } from "../../../server/events.ts";
import { gpioDeviceSchema } from "../../../server/config/schema.ts";
import { RpcError } from "../../../server/devices/device.ts";
import { MemoryDeviceMemory } from "../../../server/devices/deviceContext.ts";
import { GpioDevice } from "../../../server/devices/gpioDevice.ts";
import { EventBus } from "../../../server/eventBus.ts";
import type { TsRecord } from "../../../server/gateway/protocol.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { until } from "../../fakes/waitFor.ts";

const cfg = (extra: Record<string, unknown> = {}) =>
  gpioDeviceSchema.parse({
    id: "io",
    kind: "gpio",
    outputs: [
      { pin: 17, label: "pump", safeState: 0 },
      { pin: 27, label: "valve", activeLow: true, safeState: 1 },
    ],
    inputs: [{ pin: 22, label: "door", debounceMs: 0 }],
    ...extra,
  });

describe("GpioDevice", () => {
  let chip: SimGpioChip;
  let bus: EventBus;
  let memory: MemoryDeviceMemory;
  let telemetry: TsRecord[];

  beforeEach(() => {
    chip = new SimGpioChip();
    bus = new EventBus();
    memory = new MemoryDeviceMemory();
    telemetry = [];
    bus.on({}, "telemetry", (_d, r) => telemetry.push(r));
  });

  const make = (c = cfg()) => new GpioDevice(c, "Dev", chip, { bus, log: silentLogger(), memory });

  test("outputs start in their safe state (active-low applied electrically) and are reported", async () => {
    const d = make();
    await d.start();
    assert.equal(chip.level(17), 0);
    assert.equal(chip.level(27), 0, "valve safe state 1 on an active-low output drives the line low");
    assert.deepEqual(telemetry[0]?.values, { pump: false, valve: true, door: false });
    await d.stop();
  });

  test("toggle_gpio, setGpioStatus and getGpioStatus", async () => {
    const d = make();
    await d.start();
    assert.deepEqual(await d.rpc.toggle_gpio!({ pin: 17 }), { success: true, pin: 17, enabled: true });
    assert.equal(chip.level(17), 1);
    assert.deepEqual(await d.rpc.setGpioStatus!({ pin: "27", enabled: false }), {
      "17": true,
      "27": false,
      "22": false,
    });
    assert.equal(chip.level(27), 1, "active-low: logical off = line high");
    assert.deepEqual(await d.rpc.getGpioStatus!(null), { "17": true, "27": false, "22": false });
    assert.deepEqual(telemetry.at(-1)?.values, { valve: false });
    await d.stop();
  });

  test("only exposed outputs can be driven", async () => {
    const d = make();
    await d.start();
    await assert.rejects(
      d.rpc.toggle_gpio!({ pin: 22 }),
      (e: RpcError) => e.code === "NOT_ALLOWED" && /input/.test(e.message),
    );
    await assert.rejects(
      d.rpc.toggle_gpio!({ pin: 4 }),
      (e: RpcError) => e.code === "NOT_ALLOWED" && /not exposed/.test(e.message),
    );
    for (const bad of [null, {}, { pin: 1.5 }, { pin: "seventeen" }, [17]])
      await assert.rejects(d.rpc.toggle_gpio!(bad), (e: RpcError) => e.code === "BAD_PARAMS");
    await assert.rejects(d.rpc.setGpioStatus!({ pin: 17 }), (e: RpcError) => e.code === "BAD_PARAMS");
    assert.equal(chip.level(4), 0);
    await d.stop();
  });

  test("inputs report debounced edges with their timestamps", async () => {
    const d = make();
    await d.start();
    chip.setInput(22, 1);
    await until(() => telemetry.some((t) => t.values.door === true), "door edge");
    assert.equal(d.snapshot().values.door, true);
    await d.stop();
  });

  test("stop puts outputs back in their safe state", async () => {
    const d = make();
    await d.start();
    await d.rpc.toggle_gpio!({ pin: 17 });
    await d.stop();
    assert.equal(chip.level(17), 0);
  });

  test("shared attributes drive outputs and are restored after a restart", async () => {
    const d = make();
    await d.start();
    d.applyShared({ pump: true, unrelated: 5, valve: "maybe" }, []);
    await until(() => chip.level(17) === 1, "pump on from shared attribute");
    await d.stop();
    assert.deepEqual(memory.load("io"), { pump: true });
    const again = make();
    await again.start();
    await until(() => chip.level(17) === 1, "pump restored on restart");
    await again.stop();
  });

  test("outputs go safe after the configured time offline, not before", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const d = make(cfg({ safeStateAfterOfflineSec: 30 }));
      await d.start();
      await d.rpc.toggle_gpio!({ pin: 17 });
      d.setOnline(false);
      mock.timers.tick(29_000);
      assert.equal(chip.level(17), 1);
      d.setOnline(true);
      d.setOnline(false);
      mock.timers.tick(29_000);
      assert.equal(chip.level(17), 1, "the timer restarted when the link came back");
      mock.timers.tick(1_000);
      await until(() => chip.level(17) === 0, "safe after 30 s offline");
      await d.stop();
    } finally {
      mock.timers.reset();
    }
  });

  test("a safe-state write that fails after time offline is logged, shown in the event log and marks the device degraded", async () => {
    // The relay driver stops answering while ThingsBoard is away: writes to GPIO 17 fail from then on.
    let failWrites = false;
    const flaky: GpioChip = {
      info: chip.info,
      close: () => chip.close(),
      open: async (o) => {
        const pin = await chip.open(o);
        return {
          pin: pin.pin,
          direction: pin.direction,
          read: () => pin.read(),
          watch: (cb) => pin.watch(cb),
          close: () => pin.close(),
          write: (v) => (failWrites && pin.pin === 17 ? Promise.reject(new Error("EIO: i/o error")) : pin.write(v)),
        };
      },
    };
    const errors: string[] = [];
    const log = silentLogger();
    log.root.sinks.set((r) => errors.push(r.msg), "error");
    const events: EventLogEntry[] = [];
    let reported!: () => void;
    const wasReported = new Promise<void>((r) => (reported = r));
    bus.on({}, "eventLog", (e) => {
      events.push(e);
      reported();
    });
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const d = new GpioDevice(cfg({ safeStateAfterOfflineSec: 30 }), "Dev", flaky, { bus, log, memory });
      await d.start();
      await d.rpc.toggle_gpio!({ pin: 17 });
      failWrites = true;
      d.setOnline(false);
      mock.timers.tick(30_000);
      await wasReported;
      const text = "pump (GPIO 17) could not be put in its safe state after 30 s offline: EIO: i/o error";
      assert.deepEqual(errors, [`Dev: ${text}`]);
      assert.deepEqual(
        events.map((e) => [e.kind, e.device, e.text, e.ok]),
        [["error", "Dev", text, false]],
      );
      assert.equal(chip.level(17), 1, "the relay is still on");
      assert.equal(d.snapshot().health, "degraded");
      assert.equal(d.snapshot().error, text);
      // Written again once the driver answers: the device is healthy again.
      failWrites = false;
      await d.rpc.setGpioStatus!({ pin: 17, enabled: false });
      assert.equal(d.snapshot().health, "ok");
      assert.equal(d.snapshot().error, undefined);
      await d.stop();
    } finally {
      mock.timers.reset();
    }
  });

  test("a safe-state write that fails at shutdown is logged and reported", async () => {
    let failWrites = false;
    const flaky: GpioChip = {
      info: chip.info,
      close: () => chip.close(),
      open: async (o) => {
        const pin = await chip.open(o);
        return {
          pin: pin.pin,
          direction: pin.direction,
          read: () => pin.read(),
          watch: (cb) => pin.watch(cb),
          close: () => pin.close(),
          write: (v) => (failWrites ? Promise.reject(new Error("EIO: i/o error")) : pin.write(v)),
        };
      },
    };
    const events: EventLogEntry[] = [];
    bus.on({}, "eventLog", (e) => events.push(e));
    const d = new GpioDevice(cfg(), "Dev", flaky, { bus, log: silentLogger(), memory });
    await d.start();
    await d.rpc.toggle_gpio!({ pin: 17 });
    failWrites = true;
    await d.stop();
    assert.deepEqual(
      events.map((e) => e.text),
      ["pump (GPIO 17) could not be put in its safe state at shutdown: EIO: i/o error"],
    );
  });

  test("a pin that cannot be opened marks the device offline instead of throwing", async () => {
    await chip.close();
    const d = make();
    await d.start();
    assert.equal(d.snapshot().health, "offline");
    assert.match(d.snapshot().error ?? "", /closed/);
  });
});
