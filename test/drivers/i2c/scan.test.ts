import { test } from "node:test";
import assert from "node:assert/strict";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import { RegisterDeviceModel } from "../../../drivers/i2c/deviceModel.ts";
import { ResilientI2cBus } from "../../../drivers/i2c/resilientBus.ts";
import { scanAndIdentify, identifyAt } from "../../../drivers/i2c/scan.ts";
import { createChipModel, openSensor } from "../../../drivers/sensors/index.ts";
import { BoschModel } from "../../../drivers/sensors/bme280/bme280Model.ts";

/** An unknown register chip that reads 0x00 everywhere. */
class ZeroModel extends RegisterDeviceModel {
  protected readRegister(): number {
    return 0;
  }
  protected writeRegister(): void {}
}

/** MCP9808-like: manufacturer id 0x0054 at register 0x06 (big-endian word). */
class Mcp9808Like extends RegisterDeviceModel {
  protected readRegister(reg: number): number {
    return reg === 0x06 ? 0x00 : reg === 0x07 ? 0x54 : 0;
  }
  protected writeRegister(): void {}
}

test("scanAndIdentify names every supported chip at its address, unknown devices as null", async () => {
  const sim = new SimI2cBus();
  sim.attach(0x76, createChipModel("bme280"));
  sim.attach(0x77, createChipModel("bmp280"));
  sim.attach(0x44, createChipModel("sht31"));
  sim.attach(0x5c, createChipModel("bh1750"));
  sim.attach(0x4b, createChipModel("ads1115"));
  sim.attach(0x18, new Mcp9808Like());
  sim.attach(0x45, new ZeroModel()); // answers at an SHT3x address, but with no valid CRC
  sim.attach(0x49, new ZeroModel()); // answers at an ADS1115 address with the wrong reset values
  sim.attach(0x50, new ZeroModel()); // an EEPROM: nothing we know
  const found = await scanAndIdentify(new ResilientI2cBus(sim));
  assert.deepEqual(found, [
    { address: 0x18, chip: "mcp9808" },
    { address: 0x44, chip: "sht31" },
    { address: 0x45, chip: null },
    { address: 0x49, chip: null },
    { address: 0x4b, chip: "ads1115" },
    { address: 0x50, chip: null },
    { address: 0x5c, chip: "bh1750" },
    { address: 0x76, chip: "bme280" },
    { address: 0x77, chip: "bmp280" },
  ]);
});

test("identification is harmless: no conversion is started, and an ADS1115 in use is still recognised", async () => {
  const sim = new SimI2cBus();
  const bosch = new BoschModel();
  sim.attach(0x76, bosch);
  sim.attach(0x48, createChipModel("ads1115"));
  sim.attach(0x44, createChipModel("sht31"));
  const bus = new ResilientI2cBus(sim);
  const ads = await openSensor("ads1115", bus, 0x48, { channels: [1], gain: 16 });
  await ads.read(); // config no longer holds its reset value
  const sht = await openSensor("sht31", bus, 0x44);
  const before = (await sht.read()).values;
  await scanAndIdentify(bus);
  assert.equal(bosch.conversions, 0);
  assert.equal(await identifyAt(bus, 0x48), "ads1115");
  assert.deepEqual((await sht.read()).values, before, "the SHT3x still measures normally after a status read");
});

test("an address that stops answering during identification is unrecognised, not an error", async () => {
  const sim = new SimI2cBus();
  sim.attach(0x76, createChipModel("bme280"));
  sim.fail(0x76, { code: "EREMOTEIO", times: Infinity });
  assert.equal(await identifyAt(sim, 0x76), null);
  assert.equal(await identifyAt(sim, 0x33), null);
});

test("SHT4x is named by its CRC-checked serial number, INA219 by its reset or in-use register pattern", async () => {
  const sim = new SimI2cBus();
  sim.attach(0x44, createChipModel("sht4x"));
  sim.attach(0x45, createChipModel("sht31"));
  sim.attach(0x40, createChipModel("ina219"));
  sim.attach(0x41, createChipModel("ina219"));
  sim.attach(0x42, new ZeroModel()); // calibration 0: not an INA219 that was set up
  const bus = new ResilientI2cBus(sim);
  const ina = await openSensor("ina219", bus, 0x41); // no longer at its reset configuration
  await ina.read();
  const sht4x = await openSensor("sht4x", bus, 0x44);
  const before = (await sht4x.read()).values;
  assert.deepEqual(await scanAndIdentify(bus), [
    { address: 0x40, chip: "ina219" },
    { address: 0x41, chip: "ina219" },
    { address: 0x42, chip: null },
    { address: 0x44, chip: "sht4x" },
    { address: 0x45, chip: "sht31" },
  ]);
  assert.deepEqual((await sht4x.read()).values, before, "the SHT4x still measures normally after a serial read");
});
