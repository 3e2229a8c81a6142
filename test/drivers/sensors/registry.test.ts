import { test } from "node:test";
import assert from "node:assert/strict";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import {
  checkSensorOptions,
  createChipModel,
  openSensor,
  SENSOR_CHIP_NAMES,
  SENSOR_UNITS,
  sensorAddresses,
  type SensorChip,
} from "../../../drivers/sensors/index.ts";
import { DEFAULT_ADDRESS, I2C_SENSOR_CHIPS, KERNEL_SENSOR_CHIPS, SENSOR_CHIPS } from "../../../server/config/schema.ts";
import { KERNEL_SENSOR_CHIP_NAMES } from "../../../drivers/sensors/kernelSensors.ts";

test("the registries cover exactly the chips the config schema accepts, defaulting to the same addresses", () => {
  assert.deepEqual([...SENSOR_CHIP_NAMES].sort(), [...I2C_SENSOR_CHIPS].sort());
  assert.deepEqual([...KERNEL_SENSOR_CHIP_NAMES].sort(), [...KERNEL_SENSOR_CHIPS].sort());
  assert.deepEqual([...SENSOR_CHIPS].sort(), [...I2C_SENSOR_CHIPS, ...KERNEL_SENSOR_CHIPS].sort());
  for (const chip of SENSOR_CHIP_NAMES) assert.equal(sensorAddresses(chip)[0], DEFAULT_ADDRESS[chip]);
});

test("SENSOR_UNITS", () => {
  assert.deepEqual(SENSOR_UNITS, {
    temperature: "°C",
    humidity: "%",
    pressure: "hPa",
    lux: "lx",
    a0: "V",
    a1: "V",
    a2: "V",
    a3: "V",
    busVoltage: "V",
    shuntVoltage: "mV",
    current: "A",
    power: "W",
  });
});

test("unknown chips are refused with the list of known ones", () => {
  const bus = new SimI2cBus();
  const expected = {
    message: 'Unknown sensor chip "si7021"; expected one of bme280, bmp280, sht31, sht4x, bh1750, ads1115, ina219',
  };
  assert.throws(() => openSensor("si7021" as SensorChip, bus, 0x40), expected);
  assert.throws(() => createChipModel("si7021" as SensorChip), expected);
});

test("checkSensorOptions reports the same messages as open, without hardware", () => {
  assert.equal(checkSensorOptions("ads1115", { channels: [0, 3], gain: 2 / 3, dataRate: 250 }), null);
  assert.equal(checkSensorOptions("ads1115", { gain: "2/3" }), null);
  assert.equal(checkSensorOptions("ads1115", { gain: 0.667 }), null, "YAML cannot spell 2/3 exactly");
  assert.equal(
    checkSensorOptions("ads1115", { gain: 3 }),
    "Invalid option gain for ads1115: expected one of 2/3, 1, 2, 4, 8, 16, got 3",
  );
  assert.equal(
    checkSensorOptions("ads1115", { channels: [1, 1] }),
    "Invalid option channels for ads1115: expected a non-empty list of distinct channels 0-3, got [1,1]",
  );
  assert.equal(
    checkSensorOptions("ads1115", { channels: [] }),
    "Invalid option channels for ads1115: expected a non-empty list of distinct channels 0-3, got []",
  );
  assert.equal(
    checkSensorOptions("ads1115", { channels: [4] }),
    "Invalid option channels for ads1115: expected a non-empty list of distinct channels 0-3, got [4]",
  );
  assert.equal(
    checkSensorOptions("ads1115", { dataRate: 100 }),
    "Invalid option dataRate for ads1115: expected one of 8, 16, 32, 64, 128, 250, 475, 860, got 100",
  );
  assert.equal(
    checkSensorOptions("sht31", { repeatability: "ultra" }),
    'Invalid option repeatability for sht31: expected one of high, medium, low, got "ultra"',
  );
  assert.equal(checkSensorOptions("bh1750", { mode: "low" }), null);
  assert.equal(
    checkSensorOptions("bh1750", { mode: "fast" }),
    'Invalid option mode for bh1750: expected one of high, high2, low, got "fast"',
  );
  assert.equal(checkSensorOptions("bme280", { filter: 16, humidityOversampling: 16 }), null);
  assert.equal(
    checkSensorOptions("bmp280", { gain: 1 }),
    'Unknown option "gain" for bmp280; expected one of: temperatureOversampling, pressureOversampling, filter',
  );
});

test("chip models take an initial environment and validate updates", () => {
  const model = createChipModel("sht31", { environment: { temperature: 30 } });
  assert.equal(model.chip, "sht31");
  assert.equal(model.environment.temperature, 30);
  assert.throws(() => model.set({ temperature: Number.NaN }), {
    message: "Invalid environment temperature: expected a finite number",
  });
  assert.throws(() => model.set({ colour: 1 } as never), { message: 'Unknown environment key "colour"' });
  assert.throws(() => model.set({ volts: ["1"] } as never), {
    message: "Invalid environment volts: expected an array of finite numbers",
  });
});

test("driver-specific modes read correctly: BH1750 low-res and H-res2, ADS1115 ±0.256 V, SHT3x low repeatability", async () => {
  const bus = new SimI2cBus();
  const light = createChipModel("bh1750", { environment: { lux: 100 } });
  bus.attach(0x5c, light);
  const adc = createChipModel("ads1115", { environment: { volts: [0.1, 0.2, -0.05, 0.25] } });
  bus.attach(0x4a, adc);
  bus.attach(0x45, createChipModel("sht31", { environment: { temperature: 18.18, humidity: 33.33 } }));

  const low = await openSensor("bh1750", bus, 0x5c, { mode: "low" });
  assert.ok(Math.abs((await low.read()).values.lux! - 100) <= 0.45);
  const high2 = await openSensor("bh1750", bus, 0x5c, { mode: "high2" });
  assert.ok(Math.abs((await high2.read()).values.lux! - 100) <= 0.21); // 1/2.4 lx per count

  const ads = await openSensor("ads1115", bus, 0x4a, { channels: [3, 0, 2], gain: 16, dataRate: 860 });
  const v = (await ads.read()).values;
  assert.deepEqual(Object.keys(v), ["a0", "a2", "a3"]);
  assert.ok(Math.abs(v.a0! - 0.1) < 0.000004 && Math.abs(v.a2! + 0.05) < 0.000004, JSON.stringify(v));
  assert.ok(Math.abs(v.a3! - 0.25) < 0.000004);
  assert.deepEqual(ads.units, { a0: "V", a2: "V", a3: "V" });

  const sht = await openSensor("sht31", bus, 0x45, { repeatability: "low" });
  assert.deepEqual((await sht.read()).values, { temperature: 18.18, humidity: 33.33 });
  for (const s of [low, high2, ads, sht]) await s.close();
  await assert.rejects(sht.read(), { message: "sht31 at 0x45 is closed" });
});

test("a device at an ADS1115 address that is not one is refused at open", async () => {
  const bus = new SimI2cBus();
  bus.attach(0x48, createChipModel("bme280")); // reads 0x00 at 0x02/0x03
  await assert.rejects(
    openSensor("ads1115", bus, 0x48),
    (err: unknown) =>
      (err as { code?: string }).code === "BAD_DATA" && /does not look like an ADS1115/.test((err as Error).message),
  );
});
