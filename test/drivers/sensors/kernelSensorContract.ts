// The behaviour every kernel-read sensor (1-Wire w1_therm, the dht11 IIO driver) must show on
// its sysfs twin in a temp dir: the same promises as the I2C contract (sensorContract.ts), in the
// kernel's terms: a device directory that is missing or goes away, and attribute reads that fail.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openKernelSensor, type KernelSensorChip } from "../../../drivers/sensors/kernelSensors.ts";
import { SENSOR_UNITS } from "../../../drivers/sensors/index.ts";
import { SensorError, type Sensor } from "../../../drivers/sensors/types.ts";
import { SimSysfs } from "../../../drivers/sysfs/simSysfs.ts";

export interface Environment {
  temperature: number;
  humidity: number;
}

export interface KernelTwinHandle {
  set(env: Environment): void;
  /** The part is unplugged: its sysfs directory goes away. */
  remove(): Promise<void>;
  /** Plugged back in. */
  restore(): Promise<void>;
  /** The next `times` transfers are corrupt (CRC failure, EIO). */
  corrupt(times: number): void;
}

export interface KernelSensorContractSubject {
  title: string;
  chip: KernelSensorChip;
  options: Record<string, unknown>;
  setup(sim: SimSysfs): Promise<KernelTwinHandle>;
  environments: [Environment, Environment];
  expected(env: Environment): Record<string, number>;
  tolerance: Record<string, number>;
  /** Corrupt transfers that one read still absorbs by retrying. */
  absorbed: number;
  /** Corrupt transfers that make one read fail. */
  fatal: number;
  failureCodes: SensorError["code"][];
}

async function rejectsWith(p: Promise<unknown>, codes: SensorError["code"][]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof SensorError, `expected a SensorError, got ${String(err)}`);
    assert.ok(codes.includes(err.code), `expected ${codes.join("/")}, got ${err.code}: ${err.message}`);
    return true;
  });
}

export function describeKernelSensorContract(s: KernelSensorContractSubject): void {
  describe(`kernel sensor contract: ${s.title}`, () => {
    let sim: SimSysfs;
    let twin: KernelTwinHandle;
    let sensor: Sensor | null;

    beforeEach(async () => {
      sim = await SimSysfs.create();
      twin = await s.setup(sim);
      twin.set(s.environments[0]);
      sensor = null;
    });
    afterEach(async () => {
      await sensor?.close();
      await sim.remove();
    });

    const open = async (): Promise<Sensor> => (sensor = await openKernelSensor(s.chip, sim, s.options));
    const matches = (values: Record<string, number>, env: Environment) => {
      const want = s.expected(env);
      assert.deepEqual(Object.keys(values).sort(), Object.keys(want).sort());
      for (const [k, v] of Object.entries(want))
        assert.ok(Math.abs(values[k]! - v) <= (s.tolerance[k] ?? 0), `${k}: got ${values[k]}, expected ${v}`);
    };

    test("reads the twin's environment within resolution, with units for every key", async () => {
      const sen = await open();
      assert.equal(sen.chip, s.chip);
      const before = Date.now();
      const r = await sen.read();
      matches(r.values, s.environments[0]);
      assert.ok(r.ts >= before && r.ts <= Date.now());
      assert.deepEqual(Object.keys(sen.units).sort(), Object.keys(r.values).sort());
      for (const [k, unit] of Object.entries(sen.units)) assert.equal(unit, SENSOR_UNITS[k]);
    });

    test("a changed environment changes the reading", async () => {
      const sen = await open();
      const first = await sen.read();
      twin.set(s.environments[1]);
      const second = await sen.read();
      matches(second.values, s.environments[1]);
      assert.notDeepEqual(first.values, second.values);
    });

    test("a part that is not there is ABSENT at open", async () => {
      await twin.remove();
      await rejectsWith(openKernelSensor(s.chip, sim, s.options), ["ABSENT"]);
    });

    test("a few corrupt transfers are retried within the read", async () => {
      const sen = await open();
      twin.corrupt(s.absorbed);
      matches((await sen.read()).values, s.environments[0]);
    });

    test("a burst of corrupt transfers is an error, never a value, and the next read recovers", async () => {
      const sen = await open();
      twin.corrupt(s.fatal);
      await rejectsWith(sen.read(), s.failureCodes);
      matches((await sen.read()).values, s.environments[0]);
    });

    test("a part that vanishes is ABSENT until it is back", async () => {
      const sen = await open();
      await sen.read();
      await twin.remove();
      await rejectsWith(sen.read(), ["ABSENT"]);
      await rejectsWith(sen.read(), ["ABSENT"]);
      await twin.restore();
      twin.set(s.environments[1]);
      matches((await sen.read()).values, s.environments[1]);
    });

    test("invalid options throw synchronously; read after close is refused", async () => {
      assert.throws(
        () => openKernelSensor(s.chip, sim, { ...s.options, noSuchOption: 1 }),
        /Unknown option "noSuchOption"/,
      );
      const sen = await open();
      await sen.close();
      await assert.rejects(sen.read(), /is closed/);
    });
  });
}
