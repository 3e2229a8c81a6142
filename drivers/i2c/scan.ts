// Finds what is on a bus and names the chips it recognises, with reads that change nothing:
// chip-id / status / reset-value registers only, and no measurement commands.
import type { I2cBus } from "./types.ts";
import { sht3xCrc8 } from "../sensors/sht31/sht31Decode.ts";
import { readWordSwapped } from "./wordSwapped.ts";

export interface ScanEntry {
  address: number;
  /** "bme280", "bmp280", "sht31", "sht4x", "bh1750", "ads1115", "ina219", "mcp9808", or null when unrecognised. */
  chip: string | null;
}

type Identifier = (bus: I2cBus, address: number) => Promise<string | null>;

/** Bosch BMx280 at 0x76/0x77: chip id register 0xD0 (BME280 0x60; BMP280 0x58, samples 0x56/0x57). */
const identifyBosch: Identifier = async (bus, address) => {
  const id = await bus.readByte(address, 0xd0);
  if (id === 0x60) return "bme280";
  if (id === 0x58 || id === 0x56 || id === 0x57) return "bmp280";
  return null;
};

/** SHT3x at 0x44/0x45: "read status register" (0xF32D) answers one word with a valid CRC. */
const identifySht3x: Identifier = async (bus, address) => {
  await bus.i2cWrite(address, 2, Buffer.from([0xf3, 0x2d]));
  const buf = Buffer.alloc(3);
  await bus.i2cRead(address, 3, buf);
  return sht3xCrc8(buf.subarray(0, 2)) === buf[2] ? "sht31" : null;
};

/**
 * SHT4x at 0x44-0x46: "read serial number" (0x89) answers two words, each with a valid CRC. Tried
 * before the SHT3x probe: a lone 0x89 is an incomplete command to an SHT3x, which then NACKs the read.
 */
const identifySht4x: Identifier = async (bus, address) => {
  await bus.i2cWrite(address, 1, Buffer.from([0x89]));
  const buf = Buffer.alloc(6);
  await bus.i2cRead(address, 6, buf);
  const valid = sht3xCrc8(buf.subarray(0, 2)) === buf[2] && sht3xCrc8(buf.subarray(3, 5)) === buf[5];
  return valid && !buf.subarray(0, 6).every((b) => b === 0xff) ? "sht4x" : null;
};

/**
 * BH1750 at 0x23/0x5C has no id register; a plain 2-byte read returns its data register and is
 * harmless. It is the only common chip at these two addresses, so an answer is taken as one.
 */
const identifyBh1750: Identifier = async (bus, address) => {
  const buf = Buffer.alloc(2);
  await bus.i2cRead(address, 2, buf);
  return "bh1750";
};

/**
 * ADS1115 at 0x48-0x4B: config register reads 0x8583 after power-up; once a driver has used it
 * the config changes, but the comparator thresholds keep 0x8000 / 0x7FFF.
 */
const identifyAds1115: Identifier = async (bus, address) => {
  if ((await readWordSwapped(bus, address, 0x01)) === 0x8583) return "ads1115";
  const lo = await readWordSwapped(bus, address, 0x02);
  const hi = await readWordSwapped(bus, address, 0x03);
  return lo === 0x8000 && hi === 0x7fff ? "ads1115" : null;
};

/**
 * INA219 at 0x40-0x4F has no id register. Its configuration reads 0x399F after power-up; once a
 * driver has set it up, bit 14 is still 0 (unused), the calibration's void bit 0 is 0 and the bus
 * voltage register's unused bit 2 is 0. An address that reads like that is taken for an INA219.
 */
const identifyIna219: Identifier = async (bus, address) => {
  const config = await readWordSwapped(bus, address, 0x00);
  if (config === 0x399f) return "ina219";
  const cal = await readWordSwapped(bus, address, 0x05);
  const busVoltage = await readWordSwapped(bus, address, 0x02);
  return (config & 0xc000) === 0 && cal !== 0 && (cal & 1) === 0 && (busVoltage & 0x0004) === 0 ? "ina219" : null;
};

/** MCP9808 at 0x18-0x1F: manufacturer id register 0x06 = 0x0054. */
const identifyMcp9808: Identifier = async (bus, address) =>
  (await readWordSwapped(bus, address, 0x06)) === 0x0054 ? "mcp9808" : null;

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Which identifiers to try at each address, in order. Addresses are shared between chips (an
 * INA219 can sit anywhere in 0x40-0x4F, over the SHT3x/SHT4x and ADS1115 addresses), so the
 * chip with the stronger signature goes first.
 */
const PROBES: ReadonlyArray<readonly [readonly number[], Identifier]> = [
  [[0x76, 0x77], identifyBosch],
  [[0x44, 0x45, 0x46], identifySht4x],
  [[0x44, 0x45], identifySht3x],
  [[0x23, 0x5c], identifyBh1750],
  [range(0x48, 0x4b), identifyAds1115],
  [range(0x40, 0x4f), identifyIna219],
  [range(0x18, 0x1f), identifyMcp9808],
];

const IDENTIFIERS = new Map<number, Identifier[]>();
for (const [addresses, identify] of PROBES) {
  for (const a of addresses) IDENTIFIERS.set(a, [...(IDENTIFIERS.get(a) ?? []), identify]);
}

/** Identifies the chip at one address; any failed read means "unrecognised", never an exception. */
export async function identifyAt(bus: I2cBus, address: number): Promise<string | null> {
  for (const identify of IDENTIFIERS.get(address) ?? []) {
    try {
      const chip = await identify(bus, address);
      if (chip) return chip;
    } catch {
      /* not this chip */
    }
  }
  return null;
}

/** Scans the bus (0x03-0x77) and names each answering address. Rejects only if the scan itself fails. */
export async function scanAndIdentify(bus: I2cBus): Promise<ScanEntry[]> {
  const addresses = await bus.scan();
  const out: ScanEntry[] = [];
  for (const address of addresses) out.push({ address, chip: await identifyAt(bus, address) });
  return out;
}
