// Pure DS18B20 / 1-Wire maths and the kernel's w1_therm formats (DS18B20 datasheet 19-7487,
// "Operation - Measuring Temperature" table 1, "CRC Generation"; Maxim application note 27;
// linux drivers/w1/slaves/w1_therm.c, w1_slave_show / temperature_show).
import { SensorError } from "../types.ts";

/** Family code 0x28: the DS18B20. Its sysfs name is "28-" plus the 48-bit serial in hex. */
export const DS18B20_FAMILY = "28";
export const ROM_ID = /^28-[0-9a-f]{12}$/;

/** The temperature register's value after power-up (table 1 footnote): +85 °C, 0x0550. */
export const POWER_ON_MILLIDEGREES = 85_000;

/** The part's measurement range (datasheet: -55 °C to +125 °C). */
export const DS18B20_MIN_C = -55;
export const DS18B20_MAX_C = 125;

/** 1-Wire CRC-8: x^8 + x^5 + x^4 + 1, LSB first (reflected 0x8C), initial 0 (datasheet, AN27). */
export function w1Crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    let b = byte;
    for (let i = 0; i < 8; i++) {
      const mix = (crc ^ b) & 0x01;
      crc >>= 1;
      if (mix) crc ^= 0x8c;
      b >>= 1;
    }
  }
  return crc;
}

/** Temperature register (LSB, MSB) to °C: 16-bit two's complement, 1/16 °C per count (table 1). */
export function registerToCelsius(lsb: number, msb: number): number {
  const raw = ((msb << 8) | lsb) & 0xffff;
  return (raw & 0x8000 ? raw - 0x10000 : raw) / 16;
}

/** °C to the 12-bit temperature register, for the twin. */
export function celsiusToRegister(celsius: number): number {
  const counts = Math.round(Math.min(DS18B20_MAX_C, Math.max(DS18B20_MIN_C, celsius)) * 16);
  return counts & 0xffff;
}

/** A 9-byte scratchpad for a temperature: T LSB, T MSB, TH, TL, config (12-bit), 3 reserved, CRC. */
export function scratchpadFor(celsius: number): Uint8Array {
  const reg = celsiusToRegister(celsius);
  const pad = Uint8Array.of(reg & 0xff, reg >> 8, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0);
  pad[8] = w1Crc8(pad.subarray(0, 8));
  return pad;
}

/**
 * Whether a scratchpad can be a DS18B20's: byte 4 is the configuration register "0 R1 R0 1 1 1 1 1"
 * (datasheet, "Configuration Register"), so its bit 7 is 0 and bits 0-4 are 1. An all-zero
 * scratchpad, which a shorted data line reads and which passes the CRC, fails this.
 */
export function scratchpadLooksValid(pad: Uint8Array): boolean {
  return pad.length === 9 && ((pad[4] ?? 0) & 0x9f) === 0x1f;
}

export interface W1SlaveReading {
  scratchpad: Uint8Array;
  /** The kernel's CRC verdict ("YES"/"NO"). */
  crcOk: boolean;
  millidegrees: number;
}

const hexBytes = (s: string): number[] =>
  s
    .trim()
    .split(/\s+/)
    .map((h) => Number.parseInt(h, 16));

/**
 * Parses w1_therm's w1_slave attribute:
 *   "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
 * Anything else is SensorError BAD_DATA.
 */
export function parseW1Slave(text: string): W1SlaveReading {
  const m = /^((?:[0-9a-f]{2} ){9}): crc=([0-9a-f]{2}) (YES|NO)\n((?:[0-9a-f]{2} ){9})t=(-?\d+)\s*$/.exec(text);
  if (!m)
    throw new SensorError("BAD_DATA", `w1_slave is not in w1_therm's format: ${JSON.stringify(text.slice(0, 120))}`);
  const scratchpad = Uint8Array.from(hexBytes(m[1]!));
  return { scratchpad, crcOk: m[3] === "YES", millidegrees: Number(m[5]) };
}

/** What w1_therm prints for a scratchpad (for the twin), with the verdict of its own CRC check. */
export function formatW1Slave(scratchpad: Uint8Array, millidegrees: number): string {
  const bytes = [...scratchpad].map((b) => b.toString(16).padStart(2, "0")).join(" ") + " ";
  const crc = w1Crc8(scratchpad.subarray(0, 8));
  return `${bytes}: crc=${crc.toString(16).padStart(2, "0")} ${crc === scratchpad[8] ? "YES" : "NO"}\n${bytes}t=${millidegrees}\n`;
}

/**
 * Turns a kernel temperature (m°C) into °C, refusing what is not a measurement: the 85.000 °C
 * power-on value (the conversion never ran: the probe lost power, or parasite power without a
 * strong pull-up), and values outside the part's range (a shorted or floating line).
 */
export function checkMillidegrees(millidegrees: number, label: string): number {
  if (millidegrees === POWER_ON_MILLIDEGREES) {
    throw new SensorError(
      "BAD_DATA",
      `${label} reads 85.000 °C, its power-on value: the conversion did not run (power glitch, or parasite power without a strong pull-up)`,
    );
  }
  const c = millidegrees / 1000;
  if (!Number.isFinite(c) || c < DS18B20_MIN_C || c > DS18B20_MAX_C)
    throw new SensorError("BAD_DATA", `${label} reads ${c} °C, outside the DS18B20's -55..125 °C`);
  return c;
}
