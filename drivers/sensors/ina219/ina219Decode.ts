// Pure TI INA219 maths (INA219 datasheet SBOS448, 8.5 "Programming" and 8.6 "Register Maps"):
// the calibration register from the shunt and the current LSB (equations 1-3), the register
// scaling (shunt 10 µV, bus 4 mV, current = Current_LSB, power = 20 · Current_LSB), the bus
// voltage register's CNVR and OVF flags, and the conversion times of the ADC settings.
import { SensorError } from "../types.ts";

export const INA219_REGS = Object.freeze({
  CONFIG: 0x00,
  SHUNT: 0x01,
  BUS: 0x02,
  POWER: 0x03,
  CURRENT: 0x04,
  CALIBRATION: 0x05,
});

/** Configuration register after power-on or reset (table 4): 32 V range, /8 gain, 12-bit, continuous. */
export const INA219_CONFIG_POR = 0x399f;

export const CONFIG = Object.freeze({
  RESET: 0x8000,
  BRNG_32V: 0x2000,
  PG_SHIFT: 11,
  BADC_SHIFT: 7,
  SADC_SHIFT: 3,
  MODE_MASK: 0x0007,
  /** Shunt and bus, triggered (one conversion per write of the config register). */
  MODE_TRIGGERED: 0b011,
  MODE_CONTINUOUS: 0b111,
});

/** Bus voltage register flags (8.6.3.2): conversion ready, and math overflow. */
export const BUS_CNVR = 0x0002;
export const BUS_OVF = 0x0001;

/** Shunt voltage ranges by PGA setting (table 6): ±40, ±80, ±160, ±320 mV. */
export const SHUNT_RANGES_MV = [40, 80, 160, 320] as const;
export type ShuntRangeMv = (typeof SHUNT_RANGES_MV)[number];
export const BUS_RANGES_V = [16, 32] as const;
export type BusRangeV = (typeof BUS_RANGES_V)[number];

/** Averaged 12-bit samples per conversion and the ADC field for each (table 5). */
export const AVERAGING = [1, 2, 4, 8, 16, 32, 64, 128] as const;
export type Averaging = (typeof AVERAGING)[number];
const ADC_FIELD: Readonly<Record<Averaging, number>> = {
  1: 0b0011,
  2: 0b1001,
  4: 0b1010,
  8: 0b1011,
  16: 0b1100,
  32: 0b1101,
  64: 0b1110,
  128: 0b1111,
};
/** Conversion time in µs per ADC field value (table 5); 0b1000 is 12-bit like 0b0011. */
const ADC_MICROSECONDS: Readonly<Record<number, number>> = {
  0b0000: 84,
  0b0001: 148,
  0b0010: 276,
  0b0011: 532,
  0b1000: 532,
  0b1001: 1060,
  0b1010: 2130,
  0b1011: 4260,
  0b1100: 8510,
  0b1101: 17020,
  0b1110: 34050,
  0b1111: 68100,
};

export const SHUNT_LSB_V = 10e-6;
export const BUS_LSB_V = 0.004;

export function adcField(samples: Averaging): number {
  return ADC_FIELD[samples];
}

/** Conversion time in µs of one ADC field value; 9-11 bit settings (0b01xx) behave as listed for 0b00xx. */
export function adcMicroseconds(field: number): number {
  return ADC_MICROSECONDS[field & 0x0f] ?? ADC_MICROSECONDS[field & 0x03]!;
}

/** Cal = trunc(0.04096 / (Current_LSB · R_SHUNT)) (equation 1); bit 0 of the register is void. */
export function calibrationRegister(currentLsbA: number, shuntOhms: number): number {
  const cal = Math.trunc(0.04096 / (currentLsbA * shuntOhms));
  if (cal < 2 || cal > 0xfffe)
    throw new RangeError(`calibration ${cal} is outside 2-65534 (Current_LSB ${currentLsbA} A, shunt ${shuntOhms} Ω)`);
  return cal & 0xfffe;
}

/**
 * Current_LSB: at least Maximum_Expected_Current / 2^15 (equation 2), rounded up to a 1-2-5 step
 * as the datasheet advises ("a round number"), and large enough for the calibration to fit 16 bits.
 */
export function chooseCurrentLsb(maxCurrentA: number, shuntOhms: number): number {
  const minimum = Math.max(maxCurrentA / 32768, 0.04096 / (0xfffe * shuntOhms));
  const decade = 10 ** Math.floor(Math.log10(minimum));
  for (const step of [1, 2, 5, 10]) {
    const lsb = step * decade;
    // Float noise in step·decade (e.g. 2e-5 as 1.9999e-5) must not fall below the minimum.
    if (lsb >= minimum * (1 - 1e-12)) return Number(lsb.toPrecision(6));
  }
  return 10 * decade;
}

/** Power_LSB = 20 · Current_LSB (equation 3). */
export function powerLsb(currentLsbA: number): number {
  return 20 * currentLsbA;
}

const signed16 = (raw: number): number => (raw & 0x8000 ? raw - 0x10000 : raw);

/** Shunt voltage register: two's complement, sign-extended for every PGA setting, 10 µV per count. */
export function decodeShuntVolts(raw: number): number {
  return signed16(raw & 0xffff) * SHUNT_LSB_V;
}

export interface BusReading {
  volts: number;
  conversionReady: boolean;
  overflow: boolean;
}

/** Bus voltage register: bits 15-3 at 4 mV, CNVR (bit 1), OVF (bit 0). */
export function decodeBus(raw: number): BusReading {
  return {
    volts: ((raw & 0xffff) >> 3) * BUS_LSB_V,
    conversionReady: (raw & BUS_CNVR) !== 0,
    overflow: (raw & BUS_OVF) !== 0,
  };
}

export function decodeCurrent(raw: number, currentLsbA: number): number {
  return signed16(raw & 0xffff) * currentLsbA;
}

export function decodePower(raw: number, currentLsbA: number): number {
  return (raw & 0xffff) * powerLsb(currentLsbA);
}

/** What the chip computes after a conversion (equations 4 and 5), for the chip model. */
export function chipRegisters(
  shuntVolts: number,
  busVolts: number,
  cal: number,
  shuntRangeMv: ShuntRangeMv,
): { shunt: number; bus: number; current: number; power: number; overflow: boolean } {
  const limit = shuntRangeMv * 100; // counts at full scale
  const shuntCounts = Math.round(shuntVolts / SHUNT_LSB_V);
  const shunt = Math.max(-limit, Math.min(limit, shuntCounts));
  const bus = Math.max(0, Math.min(0x1fff, Math.round(busVolts / BUS_LSB_V)));
  const current = Math.trunc((shunt * cal) / 4096);
  const power = Math.trunc((Math.abs(current) * bus) / 5000);
  const overflow = Math.abs(shuntCounts) > limit || current > 32767 || current < -32768 || power > 0xffff;
  return { shunt: shunt & 0xffff, bus, current: current & 0xffff, power: Math.min(power, 0xffff), overflow };
}

/** The overflow flag: current and power are meaningless, so the read is refused, not reported. */
export function checkOverflow(bus: BusReading, label: string): void {
  if (bus.overflow) {
    throw new SensorError(
      "RANGE",
      `${label}: math overflow (OVF): the current exceeds the calibrated range; raise maxCurrentA or the shunt range`,
    );
  }
}
