// Sensor devices on a real driver and a register-level chip model on the simulated bus: readings
// become telemetry with their timestamps, a chip that disappears marks the device degraded (and
// is reported), the device retries with backoff and recovers, read_now answers, and the sampling
// interval follows the shared attribute.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import { ResilientI2cBus } from "../../../drivers/i2c/resilientBus.ts";
import { createChipModel, openSensor, type ChipModel } from "../../../drivers/sensors/index.ts";
import { sensorDeviceSchema } from "../../../server/config/schema.ts";
import { MemoryDeviceMemory } from "../../../server/devices/deviceContext.ts";
import { SensorDevice } from "../../../server/devices/sensorDevice.ts";
import { EventBus } from "../../../server/eventBus.ts";
import type { KeyValues, TsRecord } from "../../../server/gateway/protocol.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { until } from "../../fakes/waitFor.ts";

describe("SensorDevice (BME280 model on the simulated bus)", () => {
  let sim: SimI2cBus;
  let model: ChipModel;
  let bus: EventBus;
  let telemetry: TsRecord[];
  let attributes: KeyValues[];
  let memory: MemoryDeviceMemory;
  let dev: SensorDevice | null;

  beforeEach(() => {
    sim = new SimI2cBus();
    model = createChipModel("bme280");
    sim.attach(0x76, model);
    bus = new EventBus();
    telemetry = [];
    attributes = [];
    memory = new MemoryDeviceMemory();
    bus.on({}, "telemetry", (_d, r) => telemetry.push(r));
    bus.on({}, "clientAttributes", (_d, v) => attributes.push(v));
    dev = null;
  });
  afterEach(async () => dev?.stop());

  const make = (intervalSec = 0.1, report: Record<string, unknown> = { strategy: "every" }) => {
    const cfg = sensorDeviceSchema.parse({ id: "env", kind: "sensor", chip: "bme280", intervalSec, report });
    const i2c = new ResilientI2cBus(sim, { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 });
    dev = new SensorDevice(cfg, "Env", () => openSensor("bme280", i2c, 0x76), { bus, log: silentLogger(), memory });
    return dev;
  };

  test("readings become telemetry with the time they were taken, and the units are known", async () => {
    model.set({ temperature: 24.25, humidity: 40, pressure: 1000 });
    const before = Date.now();
    await make().start();
    await until(() => telemetry.length >= 2, "two readings");
    const r = telemetry[0]!;
    assert.ok(r.ts >= before && r.ts <= Date.now());
    assert.ok(Math.abs((r.values.temperature as number) - 24.25) < 0.05, JSON.stringify(r.values));
    assert.ok(Math.abs((r.values.humidity as number) - 40) < 0.1);
    assert.ok(Math.abs((r.values.pressure as number) - 1000) < 0.1);
    assert.deepEqual(dev!.info.units, { temperature: "°C", humidity: "%", pressure: "hPa" });
    assert.equal(dev!.snapshot().health, "ok");
  });

  test("a chip that disappears: degraded, reported once, retried with backoff, recovered", async () => {
    await make().start();
    await until(() => telemetry.length >= 1, "first reading");
    sim.detach(0x76);
    await until(() => dev!.health === "degraded", "degraded");
    assert.ok(attributes.some((a) => a.health === "degraded" && typeof a.lastError === "string"));
    const failures = dev!.stats.failures;
    // Backoff: the next attempt is at least a second away, so failures do not pile up. Instead of a
    // fixed sleep, a healthy twin at 0x77 sampling at the same 0.1 s interval on the same bus takes
    // three readings: without backoff the failing device would have had three tries meanwhile.
    sim.attach(0x77, createChipModel("bme280"));
    const cfg = sensorDeviceSchema.parse({
      id: "twin",
      kind: "sensor",
      chip: "bme280",
      intervalSec: 0.1,
      report: { strategy: "every" },
    });
    const twinBus = new EventBus();
    let twinReadings = 0;
    twinBus.on({}, "telemetry", () => twinReadings++);
    const i2c = new ResilientI2cBus(sim, { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 });
    const twin = new SensorDevice(cfg, "Twin", () => openSensor("bme280", i2c, 0x77), {
      bus: twinBus,
      log: silentLogger(),
      memory: new MemoryDeviceMemory(),
    });
    try {
      await twin.start();
      await until(() => twinReadings >= 3, "three readings of the healthy twin");
    } finally {
      await twin.stop();
    }
    assert.ok(dev!.stats.failures <= failures + 1, `backoff respected (${failures} -> ${dev!.stats.failures})`);
    sim.attach(0x76, model);
    const n = telemetry.length;
    await until(() => dev!.health === "ok" && telemetry.length > n, "recovered", 5000);
    assert.ok(attributes.some((a) => a.health === "ok"));
  });

  test("an absent chip at start-up is offline, not a crash", async () => {
    sim.detach(0x76);
    await make().start();
    await until(() => dev!.health === "offline", "offline");
    assert.match(dev!.snapshot().error ?? "", /.+/);
  });

  test("read_now answers with fresh values, or an error reply when the chip is gone", async () => {
    await make(3600).start();
    model.set({ temperature: 30 });
    const r = (await dev!.rpc.read_now!(null)) as { success: boolean; values: Record<string, number> };
    assert.equal(r.success, true);
    assert.ok(Math.abs(r.values.temperature! - 30) < 0.05);
    sim.detach(0x76);
    await assert.rejects(dev!.rpc.read_now!(null), /read failed/);
  });

  test("intervalSec follows the shared attribute, is validated, and is kept for the next start", async () => {
    await make(3600, { strategy: "every" }).start();
    await until(() => telemetry.length >= 1, "first reading");
    const n = telemetry.length;
    dev!.applyShared({ intervalSec: 0.1 }, []);
    await until(() => telemetry.length >= n + 3, "faster sampling");
    dev!.applyShared({ intervalSec: -1 }, []);
    assert.deepEqual(memory.load("env"), { intervalSec: 0.1 });
  });

  test("on-change reporting suppresses repeats of a steady value", async () => {
    model.set({ temperature: 20, humidity: 50, pressure: 1010 });
    await make(0.1, { strategy: "onChange", threshold: 0.5 }).start();
    await until(() => dev!.stats.reads >= 6, "six reads");
    assert.equal(telemetry.length, 1, "one report for a steady environment");
    model.set({ temperature: 22 });
    await until(() => telemetry.length === 2, "a change is reported");
    assert.deepEqual(Object.keys(telemetry[1]!.values), ["temperature"]);
  });

  test("a chip that names itself (SHT4x serial number) reports it as a client attribute at open", async () => {
    sim.attach(0x44, createChipModel("sht4x"));
    const cfg = sensorDeviceSchema.parse({ id: "sht", kind: "sensor", chip: "sht4x", intervalSec: 3600 });
    dev = new SensorDevice(cfg, "Sht", () => openSensor("sht4x", new ResilientI2cBus(sim), 0x44), {
      bus,
      log: silentLogger(),
      memory,
    });
    await dev.start();
    await until(() => telemetry.length >= 1, "first reading");
    assert.deepEqual(
      attributes.find((a) => "serialNumber" in a),
      { serialNumber: "0f8d2e51" },
    );
    assert.deepEqual(dev.info.units, { temperature: "°C", humidity: "%" });
  });
});
