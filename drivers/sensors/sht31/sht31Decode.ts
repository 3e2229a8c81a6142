// Pure Sensirion SHT3x maths (SHT3x-DIS datasheet 4.12, 4.13): CRC-8 and raw <-> physical units.
import { SensorError } from "../types.ts";

export const SHT3X_COMMANDS = Object.freeze({
  /** Single shot, clock stretching disabled (table 9): high / medium / low repeatability. */
  MEASURE_HIGH: 0x2400,
  MEASURE_MEDIUM: 0x240b,
  MEASURE_LOW: 0x2416,
  /** The clock-stretching variants; the Pi's I2C block mishandles stretching (fivdi/i2c-bus#36), so we never send these. */
  MEASURE_HIGH_STRETCH: 0x2c06,
  MEASURE_MEDIUM_STRETCH: 0x2c0d,
  MEASURE_LOW_STRETCH: 0x2c10,
  SOFT_RESET: 0x30a2,
  READ_STATUS: 0xf32d,
  CLEAR_STATUS: 0x3041,
  HEATER_ON: 0x306d,
  HEATER_OFF: 0x3066,
  BREAK: 0x3093,
});

/** Maximum measurement duration in ms per repeatability (datasheet table 4). */
export const SHT3X_MAX_MEASUREMENT_MS = Object.freeze({ high: 15, medium: 6, low: 4 });
/** Typical durations, which the chip model uses. */
export const SHT3X_TYPICAL_MEASUREMENT_MS = Object.freeze({ high: 12.5, medium: 4.5, low: 2.5 });
/** Soft reset time t_SR, max 1.5 ms (table 4). */
export const SHT3X_SOFT_RESET_MS = 1.5;
/** Status register after power-up or reset: alert pending (bit 15) and reset detected (bit 4), table 18. */
export const SHT3X_STATUS_AFTER_RESET = 0x8010;

/** CRC-8, polynomial 0x31 (x^8 + x^5 + x^4 + 1), init 0xFF, no reflection, no final XOR (table 20). */
export function sht3xCrc8(data: Uint8Array): number {
  let crc = 0xff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** A 16-bit word as the sensor sends it: MSB, LSB, CRC. */
export function encodeWord(word: number): Uint8Array {
  const bytes = Uint8Array.of((word >> 8) & 0xff, word & 0xff, 0);
  bytes[2] = sht3xCrc8(bytes.subarray(0, 2));
  return bytes;
}

/** Reads word `index` (0-based) from a buffer of [MSB, LSB, CRC] triplets; a CRC mismatch is a SensorError("CRC"). */
export function decodeWord(buf: Uint8Array, index: number, what: string): number {
  const at = index * 3;
  if (buf.length < at + 3) throw new SensorError("BAD_DATA", `Short read: no ${what} word`);
  const word = buf.subarray(at, at + 2);
  const crc = buf[at + 2]!;
  const expected = sht3xCrc8(word);
  if (crc !== expected) {
    throw new SensorError(
      "CRC",
      `CRC mismatch on ${what}: got 0x${crc.toString(16).padStart(2, "0")}, expected 0x${expected.toString(16).padStart(2, "0")}`,
    );
  }
  return (word[0]! << 8) | word[1]!;
}

/** T[°C] = -45 + 175 · S_T / (2^16 - 1) (datasheet 4.13). */
export function rawToCelsius(raw: number): number {
  return -45 + (175 * raw) / 65535;
}

/** RH[%] = 100 · S_RH / (2^16 - 1). */
export function rawToHumidity(raw: number): number {
  return (100 * raw) / 65535;
}

export function celsiusToRaw(celsius: number): number {
  return Math.min(65535, Math.max(0, Math.round(((celsius + 45) * 65535) / 175)));
}

export function humidityToRaw(rh: number): number {
  return Math.min(65535, Math.max(0, Math.round((rh * 65535) / 100)));
}

/** Decodes the 6-byte measurement (T word, CRC, RH word, CRC). */
export function decodeMeasurement(buf: Uint8Array): { temperature: number; humidity: number } {
  const rawT = decodeWord(buf, 0, "temperature");
  const rawRh = decodeWord(buf, 1, "humidity");
  return { temperature: rawToCelsius(rawT), humidity: rawToHumidity(rawRh) };
}
