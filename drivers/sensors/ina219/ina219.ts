// Driver for the TI INA219 current/power monitor: at set-up a reset (the configuration must read
// back its power-on value 0x399F, which is how an INA219 is told apart: it has no id register),
// the calibration register from the board's shunt and the maximum expected current, and the
// configuration; then one triggered conversion per read, CNVR polled with a deadline, the
// overflow flag refused as a reading (SensorError RANGE), and each result register read twice
// (no CRC: registers hold still after a triggered conversion, so a difference is corruption).
// Registers go over the bus as SMBus words, bytes swapped (drivers/i2c/wordSwapped.ts says why).
import type { I2cBus } from "../../i2c/types.ts";
import { readWordSwapped, writeWordSwapped } from "../../i2c/wordSwapped.ts";
import { SensorError, type Sensor, type SensorReading } from "../types.ts";
import { checkAddressFor, checkKnownOptions, hex, oneOf, round, sleep } from "../common.ts";
import { I2cSensorBase } from "../sensorBase.ts";
import {
  adcField,
  adcMicroseconds,
  AVERAGING,
  BUS_RANGES_V,
  calibrationRegister,
  checkOverflow,
  chooseCurrentLsb,
  CONFIG,
  decodeBus,
  decodeCurrent,
  decodePower,
  decodeShuntVolts,
  INA219_CONFIG_POR,
  INA219_REGS as REGS,
  SHUNT_RANGES_MV,
  type Averaging,
  type BusRangeV,
  type ShuntRangeMv,
} from "./ina219Decode.ts";

/** A0/A1 strapping gives 16 addresses, 0x40-0x4F (datasheet table 1). */
export const INA219_ADDRESSES = Object.freeze(Array.from({ length: 16 }, (_, i) => 0x40 + i));

export interface Ina219Options {
  shuntOhms: number;
  maxCurrentA: number;
  shuntRangeMv: ShuntRangeMv;
  busRangeV: BusRangeV;
  averaging: Averaging;
  currentLsbA: number;
  calibration: number;
}

function positive(key: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new Error(
      `Invalid option ${key} for ina219: expected a number > 0 and <= ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function parseIna219Options(options: Record<string, unknown> = {}): Ina219Options {
  checkKnownOptions("ina219", options, ["shuntOhms", "maxCurrentA", "shuntRangeMv", "busRangeV", "averaging"]);
  // Most INA219 breakouts carry a 0.1 Ω ("R100") shunt.
  const shuntOhms = positive("shuntOhms", options.shuntOhms, 0.1, 100);
  const explicitRange =
    options.shuntRangeMv === undefined
      ? undefined
      : oneOf("ina219", "shuntRangeMv", options.shuntRangeMv, SHUNT_RANGES_MV, 320);
  const maxCurrentA = positive("maxCurrentA", options.maxCurrentA, (explicitRange ?? 320) / 1000 / shuntOhms, 1000);
  const neededMv = maxCurrentA * shuntOhms * 1000;
  // The smallest shunt range that holds the maximum current gives the best resolution (8.5.1).
  const shuntRangeMv = explicitRange ?? SHUNT_RANGES_MV.find((r) => r >= neededMv - 1e-9);
  if (shuntRangeMv === undefined || neededMv > shuntRangeMv + 1e-9) {
    throw new Error(
      `Invalid option maxCurrentA for ina219: ${maxCurrentA} A through ${shuntOhms} Ω is ${round(neededMv, 3)} mV, beyond the ${shuntRangeMv ?? 320} mV shunt range`,
    );
  }
  const currentLsbA = chooseCurrentLsb(maxCurrentA, shuntOhms);
  return {
    shuntOhms,
    maxCurrentA,
    shuntRangeMv,
    busRangeV: oneOf("ina219", "busRangeV", options.busRangeV, BUS_RANGES_V, 32),
    averaging: oneOf("ina219", "averaging", options.averaging, AVERAGING, 1),
    currentLsbA,
    calibration: calibrationRegister(currentLsbA, shuntOhms),
  };
}

/** The configuration register for triggered shunt + bus conversions with these options. */
export function ina219Config(o: Ina219Options): number {
  const adc = adcField(o.averaging);
  return (
    (o.busRangeV === 32 ? CONFIG.BRNG_32V : 0) |
    (SHUNT_RANGES_MV.indexOf(o.shuntRangeMv) << CONFIG.PG_SHIFT) |
    (adc << CONFIG.BADC_SHIFT) |
    (adc << CONFIG.SADC_SHIFT) |
    CONFIG.MODE_TRIGGERED
  );
}

export function openIna219(bus: I2cBus, address: number, options?: Record<string, unknown>): Promise<Sensor> {
  checkAddressFor("ina219", address, INA219_ADDRESSES);
  return new Ina219Sensor(bus, address, parseIna219Options(options)).open();
}

class Ina219Sensor extends I2cSensorBase<Ina219Options> {
  readonly chip = "ina219";
  readonly units = { busVoltage: "V", shuntVoltage: "mV", current: "A", power: "W" };
  readonly #config = ina219Config(this.options);

  #read(reg: number): Promise<number> {
    return readWordSwapped(this.bus, this.address, reg);
  }

  async #readTwice(reg: number, what: string): Promise<number> {
    const data = await this.readConsistent(2, async (buffer) => buffer.writeUInt16BE(await this.#read(reg)), what);
    return data.readUInt16BE(0);
  }

  #write(reg: number, value: number): Promise<void> {
    return writeWordSwapped(this.bus, this.address, reg, value);
  }

  protected async initialise(): Promise<void> {
    await this.#write(REGS.CONFIG, CONFIG.RESET);
    const por = await this.#read(REGS.CONFIG);
    if (por !== INA219_CONFIG_POR) {
      throw new SensorError(
        "BAD_DATA",
        `Device at ${hex(this.address)} does not look like an INA219 (config after reset ${hex(por)}, expected 0x399f)`,
      );
    }
    await this.#write(REGS.CALIBRATION, this.options.calibration);
    const cal = await this.#read(REGS.CALIBRATION);
    if (cal !== this.options.calibration)
      throw new SensorError(
        "BAD_DATA",
        `${this.label} calibration reads back ${cal}, wrote ${this.options.calibration}`,
      );
  }

  protected async measure(): Promise<SensorReading> {
    // Writing the configuration with a triggered mode starts one shunt + bus conversion (8.6.1).
    await this.#write(REGS.CONFIG, this.#config);
    const readBack = await this.#read(REGS.CONFIG);
    if (readBack !== this.#config)
      throw new SensorError("BAD_DATA", `${this.label} config reads back ${hex(readBack)}, wrote ${hex(this.#config)}`);
    const convMs = (2 * adcMicroseconds(adcField(this.options.averaging))) / 1000;
    await sleep(Math.ceil(convMs));
    const deadline = performance.now() + convMs * 2 + 20;
    while (!decodeBus(await this.#read(REGS.BUS)).conversionReady) {
      if (performance.now() >= deadline)
        throw new SensorError("TIMEOUT", `${this.label} conversion did not finish (CNVR never set)`);
      await sleep(1);
    }
    const ts = Date.now();
    // Read again, twice, now that the registers hold still until the next trigger.
    const bus = decodeBus(await this.#readTwice(REGS.BUS, "bus voltage"));
    checkOverflow(bus, this.label);
    const lsb = this.options.currentLsbA;
    const shunt = decodeShuntVolts(await this.#readTwice(REGS.SHUNT, "shunt voltage"));
    const current = decodeCurrent(await this.#readTwice(REGS.CURRENT, "current"), lsb);
    // Reading the power register clears CNVR, so it comes last.
    const power = decodePower(await this.#readTwice(REGS.POWER, "power"), lsb);
    return {
      values: {
        busVoltage: round(bus.volts, 3),
        shuntVoltage: round(shunt * 1000, 2),
        current: round(current, 6),
        power: round(power, 6),
      },
      ts,
    };
  }

  /** Power-down mode (MODE = 000) keeps the calibration but stops the ADC. */
  protected override async powerDown(): Promise<void> {
    await this.#write(REGS.CONFIG, this.#config & ~CONFIG.MODE_MASK);
  }
}
