// Pure Sensirion SHT4x maths (SHT4x datasheet, section 4 "Operation and Communication"):
// one-byte commands with their precisions and maximum durations, the SHT3x's CRC-8 (same
// polynomial and init, same example 0xBEEF -> 0x92), the conversion formulas (4.6) and the
// 32-bit serial number.
import { SensorError } from "../types.ts";
import { decodeWord } from "../sht31/sht31Decode.ts";

export const SHT4X_COMMANDS = Object.freeze({
  /** Measure T & RH (table 7): high / medium / low precision (repeatability). */
  MEASURE_HIGH: 0xfd,
  MEASURE_MEDIUM: 0xf6,
  MEASURE_LOW: 0xe0,
  READ_SERIAL: 0x89,
  SOFT_RESET: 0x94,
  /** Heater pulses (200 mW 1 s, 200 mW 0.1 s, ...); never sent by the driver. */
  HEATER_200MW_1S: 0x39,
  HEATER_200MW_100MS: 0x32,
  HEATER_110MW_1S: 0x2f,
  HEATER_110MW_100MS: 0x24,
  HEATER_20MW_1S: 0x1e,
  HEATER_20MW_100MS: 0x15,
});

export const SHT4X_PRECISIONS = ["high", "medium", "low"] as const;
export type Sht4xPrecision = (typeof SHT4X_PRECISIONS)[number];

export const SHT4X_MEASURE_COMMAND: Readonly<Record<Sht4xPrecision, number>> = Object.freeze({
  high: SHT4X_COMMANDS.MEASURE_HIGH,
  medium: SHT4X_COMMANDS.MEASURE_MEDIUM,
  low: SHT4X_COMMANDS.MEASURE_LOW,
});

/** Maximum measurement durations in ms (table 4): 8.3 / 4.5 / 1.6. */
export const SHT4X_MAX_MEASUREMENT_MS: Readonly<Record<Sht4xPrecision, number>> = Object.freeze({
  high: 8.3,
  medium: 4.5,
  low: 1.6,
});
/** Typical durations (table 4), used by the chip model. */
export const SHT4X_TYPICAL_MEASUREMENT_MS: Readonly<Record<Sht4xPrecision, number>> = Object.freeze({
  high: 6.9,
  medium: 3.7,
  low: 1.3,
});
/** Soft reset time, max 1 ms (table 4). */
export const SHT4X_SOFT_RESET_MS = 1;

/** T[°C] = -45 + 175 · S_T / (2^16 - 1) (datasheet 4.6). */
export function sht4xRawToCelsius(raw: number): number {
  return -45 + (175 * raw) / 65535;
}

/**
 * RH[%] = -6 + 125 · S_RH / (2^16 - 1) (datasheet 4.6). The formula spans -6..119 %; the datasheet
 * says to crop the result to 0..100 %, which values outside it reach only through sensor tolerance.
 */
export function sht4xRawToHumidity(raw: number): number {
  return Math.min(100, Math.max(0, -6 + (125 * raw) / 65535));
}

/** Inverse of the conversions, for the chip model. */
export function sht4xCelsiusToRaw(celsius: number): number {
  return Math.min(65535, Math.max(0, Math.round(((celsius + 45) * 65535) / 175)));
}

export function sht4xHumidityToRaw(rh: number): number {
  return Math.min(65535, Math.max(0, Math.round(((rh + 6) * 65535) / 125)));
}

/** The 6-byte measurement: T word, CRC, RH word, CRC; a bad CRC is SensorError("CRC"). */
export function decodeSht4xMeasurement(buf: Uint8Array): { temperature: number; humidity: number } {
  const rawT = decodeWord(buf, 0, "temperature");
  const rawRh = decodeWord(buf, 1, "humidity");
  return { temperature: sht4xRawToCelsius(rawT), humidity: sht4xRawToHumidity(rawRh) };
}

/** The serial number answer (command 0x89): two CRC-checked words, most significant first. */
export function decodeSht4xSerial(buf: Uint8Array): number {
  const high = decodeWord(buf, 0, "serial number");
  const low = decodeWord(buf, 1, "serial number");
  const serial = high * 0x10000 + low;
  // An all-ones answer with valid CRCs is what a floating bus would need to forge; no chip has it.
  if (serial === 0xffffffff) throw new SensorError("BAD_DATA", "serial number reads 0xffffffff");
  return serial;
}
