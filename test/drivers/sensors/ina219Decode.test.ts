import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  calibrationRegister,
  checkOverflow,
  chipRegisters,
  chooseCurrentLsb,
  decodeBus,
  decodeCurrent,
  decodePower,
  decodeShuntVolts,
  powerLsb,
} from "../../../drivers/sensors/ina219/ina219Decode.ts";
import { ina219Config, parseIna219Options } from "../../../drivers/sensors/ina219/ina219.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";

describe("INA219 datasheet 8.5.1 calibration example: 10 A through a 2 mΩ shunt, 12 V bus", () => {
  // Example conditions: R_SHUNT = 2 mΩ, Current_LSB = 1 mA, Power_LSB = 20 mW, V_SHUNT = 20 mV,
  // V_BUS = 11.98 V. Register values: shunt 2000, bus 2995 (<< 3), calibration 20480,
  // current 10000, power 5990.
  const lsb = 0.001;
  test("Cal = trunc(0.04096 / (Current_LSB · R_SHUNT)) = 20480 (equation 1), Power_LSB = 20 mW (equation 3)", () => {
    assert.equal(calibrationRegister(lsb, 0.002), 20480);
    assert.equal(powerLsb(lsb), 0.02);
  });

  test("the chip's equations 4 and 5 give current 10000 and power 5990", () => {
    const r = chipRegisters(0.02, 11.98, 20480, 40);
    assert.equal(r.shunt, 2000);
    assert.equal(r.bus, 2995);
    assert.equal(r.current, 10000);
    assert.equal(r.power, 5990);
    assert.equal(r.overflow, false);
  });

  test("and the decode turns those registers back into 20 mV, 11.98 V, 10 A, 119.8 W", () => {
    assert.ok(Math.abs(decodeShuntVolts(2000) - 0.02) < 1e-12);
    const bus = decodeBus((2995 << 3) | 0x0002);
    assert.ok(Math.abs(bus.volts - 11.98) < 1e-9);
    assert.equal(bus.conversionReady, true);
    assert.equal(bus.overflow, false);
    assert.ok(Math.abs(decodeCurrent(10000, lsb) - 10) < 1e-9);
    assert.ok(Math.abs(decodePower(5990, lsb) - 119.8) < 1e-9);
  });
});

describe("INA219 register scaling", () => {
  test("shunt voltage is two's complement at 10 µV: 0x8300 is -320 mV, 0x7D00 +320 mV at PGA /8", () => {
    assert.ok(Math.abs(decodeShuntVolts(0x7d00) - 0.32) < 1e-12);
    assert.ok(Math.abs(decodeShuntVolts(0x8300) + 0.32) < 1e-12);
    assert.ok(Math.abs(decodeShuntVolts(0xfc18) + 0.01) < 1e-12, "-1000 counts");
  });

  test("bus voltage: bits 15-3 at 4 mV, OVF in bit 0", () => {
    assert.equal(decodeBus(0xfff8).volts, 8191 * 0.004);
    assert.equal(decodeBus(0x0001).overflow, true);
    assert.throws(
      () => checkOverflow(decodeBus(0x0001), "ina219 at 0x40"),
      (err: unknown) => err instanceof SensorError && err.code === "RANGE",
    );
    assert.doesNotThrow(() => checkOverflow(decodeBus(0x0002), "ina219 at 0x40"));
  });

  test("a shunt voltage beyond the PGA range saturates and sets the overflow", () => {
    const r = chipRegisters(0.05, 5, 4096, 40);
    assert.equal(r.shunt, 4000);
    assert.equal(r.overflow, true);
  });
});

describe("INA219 options -> calibration", () => {
  test("the common breakout (0.1 Ω, 2 A): min LSB 61 µA -> 100 µA, Cal 4096 (the Adafruit 32V_2A figures)", () => {
    assert.ok(Math.abs(chooseCurrentLsb(2, 0.1) - 0.0001) < 1e-15);
    const o = parseIna219Options({ shuntOhms: 0.1, maxCurrentA: 2 });
    assert.equal(o.calibration, 4096);
    assert.equal(o.shuntRangeMv, 320, "2 A · 0.1 Ω = 200 mV needs the 320 mV range");
  });

  test("defaults: 0.1 Ω shunt, the full 320 mV range (3.2 A), 32 V bus range", () => {
    const o = parseIna219Options({});
    assert.equal(o.shuntOhms, 0.1);
    assert.ok(Math.abs(o.maxCurrentA - 3.2) < 1e-12);
    assert.equal(o.shuntRangeMv, 320);
    assert.equal(o.busRangeV, 32);
    // 3.2 A / 32768 = 97.7 µA -> 100 µA.
    assert.ok(Math.abs(o.currentLsbA - 0.0001) < 1e-15);
    // BRNG=1, PG=11, BADC=SADC=0011, MODE=011 (triggered): 0x399B.
    assert.equal(ina219Config(o), 0x399b);
  });

  test("the smallest shunt range that holds the maximum current is chosen", () => {
    assert.equal(parseIna219Options({ maxCurrentA: 0.4 }).shuntRangeMv, 40);
    assert.equal(parseIna219Options({ maxCurrentA: 0.5 }).shuntRangeMv, 80);
    assert.equal(parseIna219Options({ shuntOhms: 0.002, maxCurrentA: 15 }).shuntRangeMv, 40);
  });

  test("impossible or malformed options are refused with exact messages", () => {
    assert.throws(() => parseIna219Options({ maxCurrentA: 5 }), {
      message: "Invalid option maxCurrentA for ina219: 5 A through 0.1 Ω is 500 mV, beyond the 320 mV shunt range",
    });
    assert.throws(() => parseIna219Options({ shuntOhms: 0 }), {
      message: "Invalid option shuntOhms for ina219: expected a number > 0 and <= 100, got 0",
    });
    assert.throws(() => parseIna219Options({ averaging: 3 }), {
      message: "Invalid option averaging for ina219: expected one of 1, 2, 4, 8, 16, 32, 64, 128, got 3",
    });
    assert.throws(() => parseIna219Options({ shuntRangeMv: 40, maxCurrentA: 1 }), /beyond the 40 mV shunt range/);
  });
});
