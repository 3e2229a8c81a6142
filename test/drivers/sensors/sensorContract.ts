// The behaviour every sensor driver must show against its chip model on the simulated bus
// (style.md rule 6: one contract suite, run for each implementation).
import { describe, test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import { ResilientI2cBus } from "../../../drivers/i2c/resilientBus.ts";
import { createChipModel, openSensor, SENSOR_UNITS, type SensorChip } from "../../../drivers/sensors/index.ts";
import type { ChipEnvironment, ChipModel } from "../../../drivers/sensors/chipModel.ts";
import { SensorError, type Sensor, type SensorReading } from "../../../drivers/sensors/types.ts";

export interface SensorContractSubject {
  chip: SensorChip;
  address: number;
  options?: Record<string, unknown>;
  /** Two environments that must give clearly different readings. */
  environments: [Partial<ChipEnvironment>, Partial<ChipEnvironment>];
  /** What the driver should report for an environment. */
  expected(env: Readonly<ChipEnvironment>): Record<string, number>;
  /** Allowed deviation per key (datasheet resolution plus rounding). */
  tolerance: Record<string, number>;
  /** Whether the chip can report "still measuring" (a status bit, a NACK or an OS bit). */
  canTimeout: boolean;
  /**
   * The chip says "still measuring" by NACKing the read header (SHT3x without clock stretching,
   * datasheet 4.5), so a chip pulled during a measurement looks busy until the deadline: that
   * read may end TIMEOUT; the next command then finds nobody (ABSENT).
   */
  busyIsNack?: boolean;
}

function assertMatches(
  reading: SensorReading,
  expected: Record<string, number>,
  tolerance: Record<string, number>,
): void {
  assert.deepEqual(Object.keys(reading.values).sort(), Object.keys(expected).sort());
  for (const [key, want] of Object.entries(expected)) {
    const got = reading.values[key]!;
    assert.ok(Number.isFinite(got), `${key} is not a finite number: ${got}`);
    const tol = tolerance[key] ?? 0;
    assert.ok(Math.abs(got - want) <= tol, `${key}: got ${got}, expected ${want} ± ${tol}`);
  }
}

async function assertRejectsWith(promise: Promise<unknown>, codes: SensorError["code"][]): Promise<SensorError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SensorError, `expected a SensorError, got ${String(err)}`);
    assert.ok(codes.includes(err.code), `expected code ${codes.join("/")}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a rejection with ${codes.join("/")}`);
}

export function describeSensorContract(s: SensorContractSubject): void {
  describe(`sensor contract: ${s.chip} at 0x${s.address.toString(16)}`, () => {
    let sim: SimI2cBus;
    let bus: ResilientI2cBus;
    let model: ChipModel;
    let sensor: Sensor | null;

    beforeEach(() => {
      sim = new SimI2cBus({ seed: 12345 });
      bus = new ResilientI2cBus(sim, { attempts: 4, baseDelayMs: 1, maxDelayMs: 4 });
      model = createChipModel(s.chip, { environment: s.environments[0], ...(s.options ? { options: s.options } : {}) });
      sim.attach(s.address, model);
      sensor = null;
    });

    afterEach(async () => {
      await sensor?.close();
    });

    const open = async (): Promise<Sensor> => {
      sensor = await openSensor(s.chip, bus, s.address, s.options);
      return sensor;
    };

    test("reads the model's environment within resolution, with units for every key", async () => {
      const sen = await open();
      assert.equal(sen.chip, s.chip);
      assert.equal(sen.address, s.address);
      const before = Date.now();
      const reading = await sen.read();
      assertMatches(reading, s.expected(model.environment), s.tolerance);
      assert.ok(reading.ts >= before && reading.ts <= Date.now(), "ts is the time of the measurement");
      assert.deepEqual(Object.keys(sen.units).sort(), Object.keys(reading.values).sort());
      for (const [key, unit] of Object.entries(sen.units)) assert.equal(unit, SENSOR_UNITS[key]);
    });

    test("a changed environment changes the reading", async () => {
      const sen = await open();
      const first = await sen.read();
      model.set(s.environments[1]);
      const second = await sen.read();
      assertMatches(second, s.expected(model.environment), s.tolerance);
      assert.notDeepEqual(first.values, second.values);
    });

    test("an absent chip is ABSENT at open", async () => {
      sim.detach(s.address);
      await assertRejectsWith(openSensor(s.chip, bus, s.address, s.options), ["ABSENT"]);
    });

    test("garbage on the wire is BAD_DATA or CRC, never a value, and the sensor recovers", async () => {
      const sen = await open();
      sim.garbage(s.address, true);
      for (let i = 0; i < 3; i++) await assertRejectsWith(sen.read(), ["BAD_DATA", "CRC"]);
      sim.garbage(s.address, false);
      assertMatches(await sen.read(), s.expected(model.environment), s.tolerance);
    });

    test("a chip detached mid-read rejects, and works again once re-attached", async () => {
      const sen = await open();
      await sen.read();
      const pending = sen.read();
      setTimeout(() => sim.detach(s.address), 3);
      await assertRejectsWith(pending, s.busyIsNack ? ["ABSENT", "TIMEOUT"] : ["ABSENT"]);
      await assertRejectsWith(sen.read(), ["ABSENT"]);
      model.set(s.environments[1]);
      sim.attach(s.address, model); // re-attaching is a power cycle: registers back to reset values
      assertMatches(await sen.read(), s.expected(model.environment), s.tolerance);
    });

    test("a few EREMOTEIO NACKs are retried by the resilient bus and the read succeeds", async () => {
      const sen = await open();
      const retriesBefore = bus.stats.retries;
      sim.fail(s.address, { code: "EREMOTEIO", times: 2 });
      assertMatches(await sen.read(), s.expected(model.environment), s.tolerance);
      assert.ok(
        bus.stats.retries >= retriesBefore + 2,
        `expected at least 2 retries, got ${bus.stats.retries - retriesBefore}`,
      );
      assert.equal(sim.stats.injectedFaults, 2);
    });

    if (s.canTimeout) {
      test("a conversion that never finishes is TIMEOUT (the driver gives up), then recovers", async () => {
        const sen = await open();
        model.setStuck(true);
        // Settling at all proves the driver's wait is bounded; how fast is not a test's business.
        await assertRejectsWith(sen.read(), ["TIMEOUT"]);
        model.setStuck(false);
        assertMatches(await sen.read(), s.expected(model.environment), s.tolerance);
      });
    }

    test("invalid options and addresses throw synchronously", () => {
      assert.throws(() => openSensor(s.chip, bus, s.address, { noSuchOption: 1 }), /Unknown option "noSuchOption"/);
      assert.throws(() => openSensor(s.chip, bus, 0x10, s.options), /Invalid address 0x10/);
    });
  });
}
