// Pure Bosch compensation maths, no I/O: calibration parsing and the integer formulas of the
// BMP280 datasheet 3.11.3 and BME280 datasheet 4.2.3 / 8.2.
// - Temperature: the 32-bit integer formula (0.01 °C resolution), which also yields t_fine.
// - Pressure: the 64-bit integer formula (Q24.8 Pa, ~1/256 Pa resolution), done with BigInt so
//   the 64-bit products are exact; not the 32-bit appendix variant.
// - Humidity: the 32-bit integer formula (Q22.10 %RH).
// Shifts of signed values in the C code are arithmetic; here they are floor divisions by powers
// of two on exact integers, which gives the same result whenever the C code does not overflow.
import { SKIPPED_16BIT, SKIPPED_20BIT } from "./bme280Registers.ts";

export interface TPCalibration {
  T1: number;
  T2: number;
  T3: number;
  P1: number;
  P2: number;
  P3: number;
  P4: number;
  P5: number;
  P6: number;
  P7: number;
  P8: number;
  P9: number;
}

export interface HumidityCalibration {
  H1: number;
  H2: number;
  H3: number;
  H4: number;
  H5: number;
  H6: number;
}

export interface RawSample {
  adcT: number;
  adcP: number;
  /** Undefined on a BMP280. */
  adcH?: number;
}

const TP_KEYS = ["T1", "T2", "T3", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"] as const;
/** dig_T1 and dig_P1 are unsigned short, the rest signed short (BMP280 table 17). */
const UNSIGNED_TP = new Set(["T1", "P1"]);

/** Parses the 24 bytes read from 0x88. */
export function parseTPCalibration(buf: Uint8Array): TPCalibration {
  if (buf.length < 24) throw new Error(`Expected 24 calibration bytes, got ${buf.length}`);
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: Record<string, number> = {};
  TP_KEYS.forEach((key, i) => {
    out[key] = UNSIGNED_TP.has(key) ? view.readUInt16LE(i * 2) : view.readInt16LE(i * 2);
  });
  return out as unknown as TPCalibration;
}

export function encodeTPCalibration(cal: TPCalibration): Buffer {
  const buf = Buffer.alloc(24);
  TP_KEYS.forEach((key, i) => {
    if (UNSIGNED_TP.has(key)) buf.writeUInt16LE(cal[key], i * 2);
    else buf.writeInt16LE(cal[key], i * 2);
  });
  return buf;
}

const int8 = (b: number): number => (b << 24) >> 24;

/**
 * dig_H1 from 0xA1 and dig_H2..H6 from 0xE1-0xE7 (BME280 table 16). H4 and H5 are 12-bit signed
 * values sharing register 0xE5: H4 = 0xE4[7:0] << 4 | 0xE5[3:0], H5 = 0xE6[7:0] << 4 | 0xE5[7:4],
 * with 0xE4/0xE6 carrying the sign.
 */
export function parseHumidityCalibration(h1: number, e1: Uint8Array): HumidityCalibration {
  if (e1.length < 7) throw new Error(`Expected 7 humidity calibration bytes, got ${e1.length}`);
  const b = (i: number): number => e1[i]!;
  return {
    H1: h1 & 0xff,
    H2: int8(b(1)) * 256 + b(0),
    H3: b(2),
    H4: int8(b(3)) * 16 + (b(4) & 0x0f),
    H5: int8(b(5)) * 16 + (b(4) >> 4),
    H6: int8(b(6)),
  };
}

export function encodeHumidityCalibration(cal: HumidityCalibration): { h1: number; e1: Buffer } {
  const e1 = Buffer.alloc(7);
  e1.writeInt16LE(cal.H2, 0);
  e1[2] = cal.H3 & 0xff;
  e1[3] = (cal.H4 >> 4) & 0xff;
  e1[4] = ((cal.H5 & 0x0f) << 4) | (cal.H4 & 0x0f);
  e1[5] = (cal.H5 >> 4) & 0xff;
  e1[6] = cal.H6 & 0xff;
  return { h1: cal.H1 & 0xff, e1 };
}

/** Splits the burst read from 0xF7 (6 bytes on a BMP280, 8 on a BME280) into ADC values. */
export function parseRawSample(buf: Uint8Array): RawSample {
  if (buf.length < 6) throw new Error(`Expected at least 6 data bytes, got ${buf.length}`);
  const b = (i: number): number => buf[i]!;
  const sample: RawSample = {
    adcP: (b(0) << 12) | (b(1) << 4) | (b(2) >> 4),
    adcT: (b(3) << 12) | (b(4) << 4) | (b(5) >> 4),
  };
  if (buf.length >= 8) sample.adcH = (b(6) << 8) | b(7);
  return sample;
}

export function encodeRawSample(sample: RawSample): Buffer {
  const buf = Buffer.alloc(sample.adcH === undefined ? 6 : 8);
  buf[0] = (sample.adcP >> 12) & 0xff;
  buf[1] = (sample.adcP >> 4) & 0xff;
  buf[2] = (sample.adcP & 0x0f) << 4;
  buf[3] = (sample.adcT >> 12) & 0xff;
  buf[4] = (sample.adcT >> 4) & 0xff;
  buf[5] = (sample.adcT & 0x0f) << 4;
  if (sample.adcH !== undefined) buf.writeUInt16BE(sample.adcH & 0xffff, 6);
  return buf;
}

export function isSkipped(sample: RawSample): boolean {
  return sample.adcT === SKIPPED_20BIT || sample.adcP === SKIPPED_20BIT || sample.adcH === SKIPPED_16BIT;
}

const asr = (x: number, n: number): number => Math.floor(x / 2 ** n);

/** Returns t_fine and the temperature in units of 0.01 °C (BMP280 3.11.3, 32-bit integer). */
export function compensateTemperature(adcT: number, cal: TPCalibration): { tFine: number; centiCelsius: number } {
  const var1 = asr((asr(adcT, 3) - cal.T1 * 2) * cal.T2, 11);
  const d = asr(adcT, 4) - cal.T1;
  const var2 = asr(asr(d * d, 12) * cal.T3, 14);
  const tFine = var1 + var2;
  return { tFine, centiCelsius: asr(tFine * 5 + 128, 8) };
}

/**
 * Pressure in Q24.8 Pa (divide by 256 for Pa), 64-bit integer formula. Returns 0 when dig_P1
 * makes the divisor zero, as the datasheet code does; callers treat 0 as bad data.
 */
export function compensatePressureQ24_8(adcP: number, tFine: number, cal: TPCalibration): number {
  const P = (k: keyof TPCalibration): bigint => BigInt(cal[k]);
  let var1 = BigInt(tFine) - 128000n;
  let var2 = var1 * var1 * P("P6");
  var2 = var2 + ((var1 * P("P5")) << 17n);
  var2 = var2 + (P("P4") << 35n);
  var1 = ((var1 * var1 * P("P3")) >> 8n) + ((var1 * P("P2")) << 12n);
  var1 = (((1n << 47n) + var1) * P("P1")) >> 33n;
  if (var1 === 0n) return 0;
  let p = 1048576n - BigInt(adcP);
  p = (((p << 31n) - var2) * 3125n) / var1; // BigInt division truncates toward zero, like C
  var1 = (P("P9") * (p >> 13n) * (p >> 13n)) >> 25n;
  var2 = (P("P8") * p) >> 19n;
  p = ((p + var1 + var2) >> 8n) + (P("P7") << 4n);
  return Number(p);
}

/** Relative humidity in Q22.10 %RH (divide by 1024), BME280 4.2.3 32-bit integer formula. */
export function compensateHumidityQ22_10(adcH: number, tFine: number, cal: HumidityCalibration): number {
  let v = tFine - 76800;
  const a = asr(adcH * 16384 - cal.H4 * 1048576 - cal.H5 * v + 16384, 15);
  const b = asr((asr(asr(v * cal.H6, 10) * (asr(v * cal.H3, 11) + 32768), 10) + 2097152) * cal.H2 + 8192, 14);
  v = a * b;
  v = v - asr(asr(asr(v, 15) * asr(v, 15), 7) * cal.H1, 4);
  v = Math.min(Math.max(v, 0), 419430400);
  return asr(v, 12);
}

export interface Compensated {
  temperature: number; // °C
  pressure: number; // hPa
  humidity?: number; // %RH
}

/** Full conversion of one sample to physical units (unrounded). */
export function compensate(sample: RawSample, tp: TPCalibration, hum?: HumidityCalibration): Compensated {
  const { tFine, centiCelsius } = compensateTemperature(sample.adcT, tp);
  const out: Compensated = {
    temperature: centiCelsius / 100,
    pressure: compensatePressureQ24_8(sample.adcP, tFine, tp) / 256 / 100,
  };
  if (hum && sample.adcH !== undefined) out.humidity = compensateHumidityQ22_10(sample.adcH, tFine, hum) / 1024;
  return out;
}
