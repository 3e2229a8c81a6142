// Register-level model of a Bosch BME280 / BMP280 for the simulated bus. It holds realistic
// NVM calibration, answers chip id / reset / status, runs forced-mode conversions that take the
// datasheet's typical time, and produces ADC values by numerically inverting the same
// compensation formulas the driver uses, so the driver reads back the environment within the
// formulas' resolution (0.01 °C, ~0.004 hPa, ~0.001 %RH).
import { ChipModelBase, clamp, RegisterFile, type ChipEnvironment, type ChipModelOptions } from "../chipModel.ts";
import {
  compensateHumidityQ22_10,
  compensatePressureQ24_8,
  compensateTemperature,
  encodeHumidityCalibration,
  encodeRawSample,
  encodeTPCalibration,
} from "./bme280Compensation.ts";
import type { HumidityCalibration, TPCalibration } from "./bme280Compensation.ts";
import {
  CHIP_IDS,
  MODE,
  oversampleFactor,
  REGS,
  SKIPPED_16BIT,
  SKIPPED_20BIT,
  SOFT_RESET_WORD,
  STARTUP_MS,
  STATUS_BITS,
  typicalMeasurementMs,
} from "./bme280Registers.ts";

// Coefficients in the range real parts report; the T and P words are the BMP280 datasheet 3.12 example.
export const EXAMPLE_TP_CALIBRATION: Readonly<TPCalibration> = Object.freeze({
  T1: 27504,
  T2: 26435,
  T3: -1000,
  P1: 36477,
  P2: -10685,
  P3: 3024,
  P4: 2855,
  P5: 140,
  P6: -7,
  P7: 15500,
  P8: -14600,
  P9: 6000,
});
export const EXAMPLE_H_CALIBRATION: Readonly<HumidityCalibration> = Object.freeze({
  H1: 75,
  H2: 362,
  H3: 0,
  H4: 313,
  H5: 50,
  H6: 30,
});

export interface BoschModelOptions extends ChipModelOptions {
  variant?: "bme280" | "bmp280";
  /** Chip id to report; default 0x60 for the BME280, 0x58 for the BMP280. */
  chipId?: number;
  tpCalibration?: TPCalibration;
  humidityCalibration?: HumidityCalibration;
}

/** Smallest x in [lo, hi] with f(x) >= target for increasing f (or <= for decreasing), then the closer neighbour. */
function invertMonotonic(
  f: (x: number) => number,
  target: number,
  lo: number,
  hi: number,
  increasing: boolean,
): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    const v = f(mid);
    if (increasing ? v >= target : v <= target) b = mid;
    else a = mid + 1;
  }
  if (a > lo && Math.abs(f(a - 1) - target) <= Math.abs(f(a) - target)) return a - 1;
  return a;
}

interface BoschState {
  ctrlHum: number;
  /** ctrl_hum as latched by the last ctrl_meas write (datasheet 5.4.3). */
  ctrlHumLatched: number;
  ctrlMeas: number;
  config: number;
  /** The data registers 0xF7.. (8 bytes, the BMP280 shows the first 6). */
  data: Uint8Array;
  measuringUntil: number | null;
  imUpdateUntil: number;
}

export class BoschModel extends ChipModelBase<BoschState> {
  readonly chip: "bme280" | "bmp280";
  readonly #chipId: number;
  readonly #tp: TPCalibration;
  readonly #hum: HumidityCalibration;
  readonly #nvm = new Uint8Array(256);
  readonly #registers = new RegisterFile(
    (reg) => this.#readRegister(reg),
    (reg, value) => this.#writeRegister(reg, value),
  );
  /** Count of forced conversions run, for tests. */
  conversions = 0;

  constructor(options: BoschModelOptions = {}) {
    super(options);
    this.chip = options.variant ?? "bme280";
    this.#chipId = options.chipId ?? (this.chip === "bme280" ? CHIP_IDS.BME280 : CHIP_IDS.BMP280);
    this.#tp = { ...(options.tpCalibration ?? EXAMPLE_TP_CALIBRATION) };
    this.#hum = { ...(options.humidityCalibration ?? EXAMPLE_H_CALIBRATION) };
    this.#nvm.set(encodeTPCalibration(this.#tp), REGS.CALIB_TP);
    if (this.chip === "bme280") {
      const h = encodeHumidityCalibration(this.#hum);
      this.#nvm[REGS.CALIB_H1] = h.h1;
      this.#nvm.set(h.e1, REGS.CALIB_H2);
    }
  }

  protected powerOnState(): BoschState {
    return {
      ctrlHum: 0,
      ctrlHumLatched: 0,
      ctrlMeas: 0,
      config: 0,
      // Data registers read 0x80000 / 0x8000 until a conversion has run (datasheet 5.4.7-5.4.9).
      data: encodeRawSample({ adcP: SKIPPED_20BIT, adcT: SKIPPED_20BIT, adcH: SKIPPED_16BIT }),
      measuringUntil: null,
      imUpdateUntil: this.now() + STARTUP_MS, // the NVM copy after power-up / reset
    };
  }

  write(data: Uint8Array): void {
    this.#registers.write(data);
  }

  read(length: number): Uint8Array {
    return this.#registers.read(length);
  }

  #readRegister(reg: number): number {
    this.#tick();
    const st = this.state;
    if (reg === REGS.CHIP_ID) return this.#chipId;
    if (reg === REGS.STATUS) {
      return (
        (st.measuringUntil !== null ? STATUS_BITS.MEASURING : 0) |
        (this.now() < st.imUpdateUntil ? STATUS_BITS.IM_UPDATE : 0)
      );
    }
    if (reg === REGS.CTRL_MEAS) return st.ctrlMeas;
    if (reg === REGS.CONFIG) return st.config;
    if (reg === REGS.CTRL_HUM) return this.chip === "bme280" ? st.ctrlHum : 0;
    const dataEnd = REGS.DATA + (this.chip === "bme280" ? 8 : 6);
    if (reg >= REGS.DATA && reg < dataEnd) return st.data[reg - REGS.DATA]!;
    return this.#nvm[reg] ?? 0;
  }

  #writeRegister(reg: number, value: number): void {
    this.#tick();
    const st = this.state;
    switch (reg) {
      case REGS.RESET:
        if (value === SOFT_RESET_WORD) this.powerOnReset();
        return;
      case REGS.CTRL_HUM:
        // Takes effect only after the next write to ctrl_meas (BME280 datasheet 5.4.3).
        if (this.chip === "bme280") st.ctrlHum = value & 0x07;
        return;
      case REGS.CONFIG:
        // Writes in normal mode may be ignored; in sleep mode they are not (datasheet 5.4.6).
        if ((st.ctrlMeas & 0x03) !== MODE.NORMAL) st.config = value;
        return;
      case REGS.CTRL_MEAS:
        st.ctrlHumLatched = st.ctrlHum;
        st.ctrlMeas = value;
        if ((value & 0x03) === 0b01 || (value & 0x03) === 0b10) this.#startForced();
        return;
      default:
        return; // calibration and data registers are read-only
    }
  }

  #startForced(): void {
    const st = this.state;
    const t = oversampleFactor((st.ctrlMeas >> 5) & 0x07);
    const p = oversampleFactor((st.ctrlMeas >> 2) & 0x07);
    const h = this.chip === "bme280" ? oversampleFactor(st.ctrlHumLatched) : 0;
    st.measuringUntil = this.now() + typicalMeasurementMs(t, p, h);
  }

  /** Finishes a due conversion: latch data, return to sleep mode (forced mode is one-shot). */
  #tick(): void {
    const st = this.state;
    if (st.measuringUntil === null || !this.isDone(st.measuringUntil)) return;
    st.measuringUntil = null;
    st.ctrlMeas &= ~0x03;
    this.conversions++;
    const tOn = ((st.ctrlMeas >> 5) & 0x07) !== 0;
    const pOn = ((st.ctrlMeas >> 2) & 0x07) !== 0;
    const hOn = this.chip === "bme280" && st.ctrlHumLatched !== 0;
    const { adcT, adcP, adcH } = this.rawFor(this.environment);
    st.data = encodeRawSample({
      adcT: tOn ? adcT : SKIPPED_20BIT,
      adcP: pOn && tOn ? adcP : SKIPPED_20BIT,
      adcH: hOn && tOn ? adcH : SKIPPED_16BIT,
    });
  }

  /** ADC values whose compensation gives back `env` (the physics, inverted). */
  rawFor(env: Readonly<ChipEnvironment>): { adcT: number; adcP: number; adcH: number } {
    const temperature = clamp(env.temperature, -40, 85);
    const adcT = invertMonotonic(
      (x) => compensateTemperature(x, this.#tp).centiCelsius,
      Math.round(temperature * 100),
      0,
      0xfffff,
      true,
    );
    const { tFine } = compensateTemperature(adcT, this.#tp);
    const pressureQ = clamp(env.pressure, 300, 1100) * 100 * 256;
    const adcP = invertMonotonic((x) => compensatePressureQ24_8(x, tFine, this.#tp), pressureQ, 0, 0xfffff, false);
    const humidityQ = clamp(env.humidity, 0, 100) * 1024;
    const adcH = invertMonotonic((x) => compensateHumidityQ22_10(x, tFine, this.#hum), humidityQ, 0, 0xffff, true);
    return { adcT, adcP, adcH };
  }
}
