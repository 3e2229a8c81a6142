import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import type { I2cDeviceModel } from "../../../drivers/i2c/deviceModel.ts";
import { BoschModel, EXAMPLE_TP_CALIBRATION } from "../../../drivers/sensors/bme280/bme280Model.ts";
import { openBme280, openBmp280 } from "../../../drivers/sensors/bme280/bme280.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";

/** Wraps a model and records every transaction, so the init order can be checked. */
class RecordingModel implements I2cDeviceModel {
  log: string[] = [];
  constructor(readonly inner: BoschModel) {}
  write(data: Uint8Array): void {
    this.log.push(`W ${[...data].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`);
    this.inner.write(data);
  }
  read(length: number): Uint8Array {
    this.log.push(`R ${length}`);
    return this.inner.read(length);
  }
  powerOnReset(): void {
    this.inner.powerOnReset();
  }
}

const rejectsWith = (code: SensorError["code"], pattern: RegExp) => (err: unknown) =>
  err instanceof SensorError && err.code === code && pattern.test(err.message);

describe("BME280 driver init and measurement sequence", () => {
  test("id -> soft reset -> im_update poll -> calibration -> config, ctrl_hum, ctrl_meas in sleep mode", async () => {
    const bus = new SimI2cBus();
    const rec = new RecordingModel(new BoschModel());
    bus.attach(0x76, rec);
    const sensor = await openBme280(bus, 0x76, {
      humidityOversampling: 2,
      temperatureOversampling: 4,
      pressureOversampling: 8,
      filter: 4,
    });
    const writes = rec.log.filter((l) => l.startsWith("W"));
    assert.equal(writes[0], "W d0"); // chip id pointer
    assert.equal(writes[1], "W e0 b6"); // soft reset (datasheet 5.4.2)
    const iConfig = writes.indexOf("W f5 08"); // filter 4 -> 0b010 << 2
    const iHum = writes.indexOf("W f2 02"); // osrs_h x2
    const iMeas = writes.indexOf("W f4 70"); // osrs_t x4 (011 << 5) | osrs_p x8 (100 << 2) | sleep
    assert.ok(writes.includes("W 88") && writes.includes("W a1") && writes.includes("W e1"), "calibration blocks read");
    assert.ok(
      iConfig > 0 && iConfig < iHum && iHum < iMeas,
      `config, then ctrl_hum before ctrl_meas (5.4.3): ${writes.join(" | ")}`,
    );

    rec.log = [];
    await sensor.read();
    const readWrites = rec.log.filter((l) => l.startsWith("W"));
    assert.equal(readWrites[0], "W f4 71"); // same oversampling, forced mode
    assert.ok(readWrites.includes("W f3"), "status polled");
    assert.equal(rec.log.filter((l) => l === "W f7").length, 2, "data block read twice");
    assert.equal(rec.inner.conversions, 1);
  });

  test("chip id read is retried: two NACKs on a plain bus still open", async () => {
    const bus = new SimI2cBus();
    bus.attach(0x77, new BoschModel());
    bus.fail(0x77, { code: "EREMOTEIO", times: 2 });
    const sensor = await openBme280(bus, 0x77);
    assert.ok(Number.isFinite((await sensor.read()).values.humidity));
  });

  test("wrong chips are told apart with a helpful message", async () => {
    const bus = new SimI2cBus();
    bus.attach(0x76, new BoschModel({ variant: "bmp280" }));
    bus.attach(0x77, new BoschModel({ chipId: 0x61 }));
    await assert.rejects(openBme280(bus, 0x76), rejectsWith("BAD_DATA", /found a BMP280 .*configure chip "bmp280"/));
    await assert.rejects(openBme280(bus, 0x77), rejectsWith("BAD_DATA", /Unexpected chip id 0x61/));
  });

  test("BMP280 engineering samples (chip id 0x56/0x57) are accepted; a BME280 is refused as bmp280", async () => {
    const bus = new SimI2cBus();
    bus.attach(0x76, new BoschModel({ variant: "bmp280", chipId: 0x57 }));
    bus.attach(0x77, new BoschModel({ variant: "bme280" }));
    const sensor = await openBmp280(bus, 0x76);
    assert.deepEqual(Object.keys((await sensor.read()).values).sort(), ["pressure", "temperature"]);
    await assert.rejects(openBmp280(bus, 0x77), rejectsWith("BAD_DATA", /found a BME280/));
  });

  test("blank calibration (dig_P1 = 0) is BAD_DATA, not a division by zero", async () => {
    const bus = new SimI2cBus();
    bus.attach(0x76, new BoschModel({ tpCalibration: { ...EXAMPLE_TP_CALIBRATION, P1: 0 } }));
    await assert.rejects(openBme280(bus, 0x76), rejectsWith("BAD_DATA", /invalid calibration/));
  });

  test("a chip that lost its configuration (skipped values) is BAD_DATA once, then re-initialised", async () => {
    const bus = new SimI2cBus();
    const model = new BoschModel({ environment: { temperature: 30 } });
    bus.attach(0x76, model);
    const sensor = await openBme280(bus, 0x76);
    await sensor.read();
    // A brown-out resets ctrl_hum to 0 while the driver keeps going: humidity comes back skipped.
    await bus.writeByte(0x76, 0xf2, 0x00);
    await assert.rejects(sensor.read(), rejectsWith("BAD_DATA", /no measurement/));
    assert.equal((await sensor.read()).values.temperature, 30);
  });

  test("option validation messages", () => {
    const bus = new SimI2cBus();
    assert.throws(() => openBme280(bus, 0x76, { filter: 3 }), {
      message: "Invalid option filter for bme280: expected one of 0, 2, 4, 8, 16, got 3",
    });
    assert.throws(() => openBme280(bus, 0x76, { temperatureOversampling: "4" }), {
      message: 'Invalid option temperatureOversampling for bme280: expected one of 1, 2, 4, 8, 16, got "4"',
    });
    assert.throws(() => openBmp280(bus, 0x76, { humidityOversampling: 1 }), {
      message:
        'Unknown option "humidityOversampling" for bmp280; expected one of: temperatureOversampling, pressureOversampling, filter',
    });
    assert.throws(() => openBme280(bus, 0x40), {
      message: "Invalid address 0x40 for bme280: expected one of 0x76, 0x77",
    });
  });
});
