// The register images the virtual Pi (scripts/vm) writes into i2c-stub, checked on the host
// against the real drivers on a bus with i2c-stub's semantics (test/fakes/i2cStubModel.ts), so a
// wrong image fails here in milliseconds rather than after a VM boot.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import { openSensor } from "../../../drivers/sensors/index.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";
import { bme280RegisterImage, expectedReading } from "../../../scripts/vm/guest/bme280Image.ts";
import { I2cStubModel } from "../../fakes/i2cStubModel.ts";

describe("BME280 register image for i2c-stub", () => {
  test("the datasheet's double-precision formulas give the BMP280 datasheet 3.12 example values", () => {
    const want = expectedReading();
    // BMP280 datasheet table "Compensation formula example": 25.08 °C and 100653.27 Pa.
    assert.ok(Math.abs(want.temperature - 25.08) < 0.005, `temperature ${want.temperature}`);
    assert.ok(Math.abs(want.pressure - 1006.5327) < 0.001, `pressure ${want.pressure}`);
    assert.ok(want.humidity > 0 && want.humidity < 100, `humidity ${want.humidity}`);
  });

  test("the BME280 driver reads the image on i2c-stub semantics and decodes what the image encodes", async () => {
    const bus = new SimI2cBus();
    bus.attach(0x76, new I2cStubModel(bme280RegisterImage()));
    const sensor = await openSensor("bme280", bus, 0x76);
    const r = await sensor.read();
    const want = expectedReading();
    const v = r.values as { temperature: number; pressure: number; humidity: number };
    // The same tolerances as the VM check (scripts/vm/guest/checks.ts): the driver rounds to 0.01.
    assert.ok(
      Math.abs(v.temperature - want.temperature) <= 0.011,
      `temperature ${v.temperature} vs ${want.temperature}`,
    );
    assert.ok(Math.abs(v.pressure - want.pressure) <= 0.011, `pressure ${v.pressure} vs ${want.pressure}`);
    assert.ok(Math.abs(v.humidity - want.humidity) <= 0.05, `humidity ${v.humidity} vs ${want.humidity}`);
    await sensor.close();
  });
});

describe("why the VM cannot stand in for an ADS1115", () => {
  test("2-byte block reads of 16-bit registers overlap on i2c-stub: no image passes the threshold check", async () => {
    // LO_THRESH (0x02) must read 0x8000 and HI_THRESH (0x03) 0x7FFF: byte 0x03 would have to be
    // 0x00 and 0x7F at once.
    const bus = new SimI2cBus();
    bus.attach(
      0x48,
      new I2cStubModel(
        new Map([
          [0x02, 0x80],
          [0x03, 0x00],
          [0x04, 0xff],
        ]),
      ),
    );
    await assert.rejects(
      openSensor("ads1115", bus, 0x48),
      (err: unknown) => err instanceof SensorError && /does not look like an ADS1115/.test(err.message),
    );
  });
});
