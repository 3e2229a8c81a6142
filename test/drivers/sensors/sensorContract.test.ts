// Runs the sensor contract for every driver against its chip model.
import { describeSensorContract } from "./sensorContract.ts";

const r2 = (x: number): number => Math.round(x * 100) / 100;

describeSensorContract({
  chip: "bme280",
  address: 0x76,
  environments: [
    { temperature: 23.45, humidity: 56.7, pressure: 987.65 },
    { temperature: -5.25, humidity: 80.5, pressure: 1032.1 },
  ],
  expected: (e) => ({ temperature: r2(e.temperature), humidity: r2(e.humidity), pressure: r2(e.pressure) }),
  // Integer formulas: 0.01 °C, ~0.002 hPa and ~0.001 %RH per step, then rounded to 2 decimals.
  tolerance: { temperature: 0.011, humidity: 0.011, pressure: 0.011 },
  canTimeout: true,
});

describeSensorContract({
  chip: "bmp280",
  address: 0x77,
  options: { temperatureOversampling: 2, pressureOversampling: 4, filter: 0 },
  environments: [
    { temperature: 19.87, pressure: 1001.23 },
    { temperature: 31.02, pressure: 899.5 },
  ],
  expected: (e) => ({ temperature: r2(e.temperature), pressure: r2(e.pressure) }),
  tolerance: { temperature: 0.011, pressure: 0.011 },
  canTimeout: true,
});

describeSensorContract({
  chip: "sht31",
  address: 0x44,
  environments: [
    { temperature: 24.6, humidity: 41.3 },
    { temperature: -12.4, humidity: 97.25 },
  ],
  expected: (e) => ({ temperature: r2(e.temperature), humidity: r2(e.humidity) }),
  // 175/65535 °C and 100/65535 %RH per count (datasheet 4.13), then rounded.
  tolerance: { temperature: 0.011, humidity: 0.011 },
  canTimeout: true,
  busyIsNack: true,
});

describeSensorContract({
  chip: "bh1750",
  address: 0x23,
  environments: [{ lux: 321.7 }, { lux: 12345.6 }],
  expected: (e) => ({ lux: e.lux }),
  // One count is 1/1.2 lx in high-resolution mode.
  tolerance: { lux: 0.45 },
  // No status bit: a late conversion just returns the previous result.
  canTimeout: false,
});

describeSensorContract({
  chip: "ads1115",
  address: 0x49,
  options: { channels: [0, 2, 3], gain: 1, dataRate: 860 },
  environments: [{ volts: [0.5, 1.0, 2.5, 3.3] }, { volts: [0.01, 4.0, 1.2345, 0] }],
  expected: (e) => ({ a0: e.volts[0]!, a2: e.volts[2]!, a3: e.volts[3]! }),
  // ±4.096 V full scale: 125 µV per LSB, half an LSB after rounding.
  tolerance: { a0: 0.0000626, a2: 0.0000626, a3: 0.0000626 },
  canTimeout: true,
});

describeSensorContract({
  chip: "sht4x",
  address: 0x45,
  environments: [
    { temperature: 24.6, humidity: 41.3 },
    { temperature: -12.4, humidity: 97.25 },
  ],
  expected: (e) => ({ temperature: r2(e.temperature), humidity: r2(e.humidity) }),
  // 175/65535 °C and 125/65535 %RH per count (datasheet 4.6), then rounded.
  tolerance: { temperature: 0.011, humidity: 0.011 },
  canTimeout: true,
  busyIsNack: true,
});

describeSensorContract({
  chip: "ina219",
  address: 0x4c,
  // 16-sample averaging: a read takes ~17 ms, long enough for the mid-read detach test to land inside it.
  options: { shuntOhms: 0.1, maxCurrentA: 2, averaging: 16 },
  environments: [
    { current: 0.4321, busVoltage: 5.04 },
    { current: -0.75, busVoltage: 12.3 },
  ],
  // 2 A max through 0.1 Ω: 80 mV range, Current_LSB 100 µA (61 µA rounded up to 1-2-5), power LSB 2 mW.
  expected: (e) => ({
    busVoltage: e.busVoltage,
    shuntVoltage: e.current * 100,
    current: e.current,
    power: Math.abs(e.current) * e.busVoltage,
  }),
  tolerance: { busVoltage: 0.002, shuntVoltage: 0.0051, current: 0.0001, power: 0.004 },
  canTimeout: true,
});
