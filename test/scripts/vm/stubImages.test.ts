// The register images the virtual Pi (scripts/vm) writes into i2c-stub, checked on the host
// against the real drivers on a bus with i2c-stub's semantics (test/fakes/i2cStubBus.ts, after
// drivers/i2c/i2c-stub.c), so a wrong image fails here in milliseconds rather than after a VM boot.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { openSensor } from "../../../drivers/sensors/index.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";
import { singleShotConfig } from "../../../drivers/sensors/ads1115/ads1115Decode.ts";
import { identifyAt } from "../../../drivers/i2c/scan.ts";
import { bme280RegisterImage, expectedReading } from "../../../scripts/vm/guest/bme280Image.ts";
import {
  ADS1115_ADDRESS,
  ADS1115_OPTIONS,
  ads1115WordImage,
  CONVERSION_CODE,
  expectedAds1115Volts,
} from "../../../scripts/vm/guest/ads1115Image.ts";
import { I2cStubBus } from "../../fakes/i2cStubBus.ts";

describe("BME280 register image for i2c-stub", () => {
  test("the datasheet's double-precision formulas give the BMP280 datasheet 3.12 example values", () => {
    const want = expectedReading();
    // BMP280 datasheet table "Compensation formula example": 25.08 °C and 100653.27 Pa.
    assert.ok(Math.abs(want.temperature - 25.08) < 0.005, `temperature ${want.temperature}`);
    assert.ok(Math.abs(want.pressure - 1006.5327) < 0.001, `pressure ${want.pressure}`);
    assert.ok(want.humidity > 0 && want.humidity < 100, `humidity ${want.humidity}`);
  });

  test("the BME280 driver reads the image on i2c-stub semantics and decodes what the image encodes", async () => {
    const bus = new I2cStubBus();
    bus.addChip(0x76);
    await bus.writeByteImage(0x76, bme280RegisterImage());
    const sensor = await openSensor("bme280", bus, 0x76);
    const r = await sensor.read();
    const want = expectedReading();
    const v = r.values as { temperature: number; pressure: number; humidity: number };
    // The same tolerances as the VM check (scripts/vm/guest/serviceChecks.ts): the driver rounds to 0.01.
    assert.ok(
      Math.abs(v.temperature - want.temperature) <= 0.011,
      `temperature ${v.temperature} vs ${want.temperature}`,
    );
    assert.ok(Math.abs(v.pressure - want.pressure) <= 0.011, `pressure ${v.pressure} vs ${want.pressure}`);
    assert.ok(Math.abs(v.humidity - want.humidity) <= 0.05, `humidity ${v.humidity} vs ${want.humidity}`);
    await sensor.close();
  });
});

async function ads1115OnStub(): Promise<I2cStubBus> {
  const bus = new I2cStubBus();
  bus.addChip(ADS1115_ADDRESS);
  await bus.writeWordImage(ADS1115_ADDRESS, ads1115WordImage());
  return bus;
}

describe("ADS1115 register image for i2c-stub", () => {
  test("the datasheet's code -> volts: 10000 counts at ±4.096 V are 1.25 V on each configured channel", () => {
    // SBAS444 table 3: one code is FS / 2^15 = 125 µV at ±4.096 V.
    assert.deepEqual(expectedAds1115Volts(), { a0: 1.25, a3: 1.25 });
  });

  test("i2c-stub holds each register as the SMBus word a real chip answers (MSB in the low byte)", async () => {
    const bus = await ads1115OnStub();
    assert.equal(bus.word(ADS1115_ADDRESS, 0x00), 0x1027); // 10000 = 0x2710
    assert.equal(bus.word(ADS1115_ADDRESS, 0x01), 0x8385);
    assert.equal(bus.word(ADS1115_ADDRESS, 0x02), 0x0080);
    assert.equal(bus.word(ADS1115_ADDRESS, 0x03), 0xff7f);
    assert.equal(await identifyAt(bus, ADS1115_ADDRESS), "ads1115");
  });

  test("the ADS1115 driver reads the image through SMBus words and decodes the volts it encodes", async () => {
    const bus = await ads1115OnStub();
    const sensor = await openSensor("ads1115", bus, ADS1115_ADDRESS, { ...ADS1115_OPTIONS });
    const r = await sensor.read();
    // The same tolerance as the VM check: the driver rounds to 1 µV.
    for (const [key, want] of Object.entries(expectedAds1115Volts())) {
      const got = r.values[key];
      assert.ok(typeof got === "number" && Math.abs(got - want) <= 1e-6, `${key} ${String(got)} vs ${want}`);
    }
    // The stub kept the last config the driver wrote (AIN3, PGA 001, 128 SPS, OS = 1 read as idle).
    const config = bus.word(ADS1115_ADDRESS, 0x01);
    assert.equal(((config & 0xff) << 8) | (config >> 8), singleShotConfig(3, 0b001, 128));
    assert.equal(bus.word(ADS1115_ADDRESS, 0x00), ((CONVERSION_CODE & 0xff) << 8) | (CONVERSION_CODE >> 8));
    await sensor.close();
  });

  test("2-byte I2C-block reads of the same image overlap (one byte per address): why the driver uses words", async () => {
    const bus = await ads1115OnStub();
    const buf = Buffer.alloc(2);
    await bus.readI2cBlock(ADS1115_ADDRESS, 0x02, 2, buf);
    // LO_THRESH would read its low byte and HI_THRESH's low byte: 0x807F, not 0x8000.
    assert.equal(buf.readUInt16BE(0), 0x807f);
  });
});

describe("why the VM cannot stand in for an INA219", () => {
  test("the reset bit the driver writes reads back instead of the chip's 0x399F: the identity check refuses it", async () => {
    // The real chip clears RST and restores its power-on configuration (datasheet 8.6.2.1); the
    // static stub keeps the word written, so no image passes the check without weakening it.
    const bus = new I2cStubBus();
    bus.addChip(0x40);
    await bus.writeWordImage(0x40, new Map([[0x00, 0x9f39]]));
    await assert.rejects(
      openSensor("ina219", bus, 0x40),
      (err: unknown) => err instanceof SensorError && /does not look like an INA219.*0x8000/.test(err.message),
    );
  });
});
