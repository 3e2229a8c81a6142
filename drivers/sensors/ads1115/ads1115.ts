// Driver for the TI ADS1115 16-bit ADC: one single-shot conversion per configured single-ended
// channel (AIN0-AIN3 vs GND), OS-bit polling with a deadline, config read back and checked
// (the chip has no CRC, so a readback that differs from what was written is corruption), and
// the conversion register read twice for the same reason. Registers go over the bus as SMBus
// words, bytes swapped (drivers/i2c/wordSwapped.ts says why).
import type { I2cBus } from "../../i2c/types.ts";
import { readWordSwapped, writeWordSwapped } from "../../i2c/wordSwapped.ts";
import { SensorError, type Sensor, type SensorReading } from "../types.ts";
import { checkAddressFor, checkKnownOptions, hex, oneOf, round, sleep } from "../common.ts";
import { I2cSensorBase } from "../sensorBase.ts";
import {
  ADS1115_HI_THRESH_RESET,
  ADS1115_LO_THRESH_RESET,
  ADS1115_REGS as REGS,
  CONFIG_BITS,
  conversionMs,
  DATA_RATES,
  decodeConversion,
  PGA_BY_GAIN,
  rawToVolts,
  singleShotConfig,
  type DataRate,
} from "./ads1115Decode.ts";

export const ADS1115_ADDRESSES = Object.freeze([0x48, 0x49, 0x4a, 0x4b]);

export interface Ads1115Options {
  channels: number[];
  /** PGA field (0b000 = ±6.144 V ... 0b101 = ±0.256 V). */
  pga: number;
  dataRate: DataRate;
}

const GAIN_NAMES = "2/3, 1, 2, 4, 8, 16";

function parseGain(value: unknown): number {
  if (value === undefined) return PGA_BY_GAIN.get(1)!;
  if (value === "2/3") return PGA_BY_GAIN.get(2 / 3)!;
  if (typeof value === "number") {
    // YAML cannot write 2/3 exactly; accept anything that rounds to it (0.667, 0.6667...).
    if (Math.abs(value - 2 / 3) < 0.001) return PGA_BY_GAIN.get(2 / 3)!;
    const pga = PGA_BY_GAIN.get(value);
    if (pga !== undefined) return pga;
  }
  throw new Error(`Invalid option gain for ads1115: expected one of ${GAIN_NAMES}, got ${JSON.stringify(value)}`);
}

function parseChannels(value: unknown): number[] {
  if (value === undefined) return [0];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((c) => !Number.isInteger(c) || c < 0 || c > 3) ||
    new Set(value).size !== value.length
  ) {
    throw new Error(
      `Invalid option channels for ads1115: expected a non-empty list of distinct channels 0-3, got ${JSON.stringify(value)}`,
    );
  }
  return [...(value as number[])].sort((a, b) => a - b);
}

export function parseAds1115Options(options: Record<string, unknown> = {}): Ads1115Options {
  checkKnownOptions("ads1115", options, ["channels", "gain", "dataRate"]);
  return {
    channels: parseChannels(options.channels),
    pga: parseGain(options.gain),
    dataRate: oneOf("ads1115", "dataRate", options.dataRate, DATA_RATES, 128),
  };
}

export function openAds1115(bus: I2cBus, address: number, options?: Record<string, unknown>): Promise<Sensor> {
  checkAddressFor("ads1115", address, ADS1115_ADDRESSES);
  return new Ads1115Sensor(bus, address, parseAds1115Options(options)).open();
}

// Single-shot mode powers down after each conversion, so closing needs no command.
class Ads1115Sensor extends I2cSensorBase<Ads1115Options> {
  readonly chip = "ads1115";
  readonly units: Record<string, string> = Object.fromEntries(this.options.channels.map((c) => [`a${c}`, "V"]));

  #readRegister(reg: number): Promise<number> {
    return readWordSwapped(this.bus, this.address, reg);
  }

  /**
   * The comparator threshold registers keep their power-on values (0x8000 / 0x7FFF) unless
   * software changes them, and this driver never does: a different value means another chip.
   */
  protected async initialise(): Promise<void> {
    const lo = await this.#readRegister(REGS.LO_THRESH);
    const hi = await this.#readRegister(REGS.HI_THRESH);
    if (lo !== ADS1115_LO_THRESH_RESET || hi !== ADS1115_HI_THRESH_RESET) {
      throw new SensorError(
        "BAD_DATA",
        `Device at ${hex(this.address)} does not look like an ADS1115 (thresholds ${hex(lo)}/${hex(hi)})`,
      );
    }
  }

  protected async measure(): Promise<SensorReading> {
    const values: Record<string, number> = {};
    for (const channel of this.options.channels) values[`a${channel}`] = round(await this.#convert(channel), 6);
    return { values, ts: Date.now() };
  }

  async #convert(channel: number): Promise<number> {
    const { pga, dataRate } = this.options;
    const config = singleShotConfig(channel, pga, dataRate);
    await writeWordSwapped(this.bus, this.address, REGS.CONFIG, config);
    const convMs = conversionMs(dataRate);
    // The internal oscillator may run 10 % slow (datasheet 7.1): wait 1.1x before the first poll.
    await sleep(Math.ceil(convMs * 1.1));
    const deadline = performance.now() + convMs * 2 + 20;
    for (;;) {
      const readBack = await this.#readRegister(REGS.CONFIG);
      if ((readBack & ~CONFIG_BITS.OS) !== (config & ~CONFIG_BITS.OS)) {
        throw new SensorError(
          "BAD_DATA",
          `${this.label} config reads back 0x${readBack.toString(16)}, wrote 0x${config.toString(16)}`,
        );
      }
      if (readBack & CONFIG_BITS.OS) break;
      if (performance.now() >= deadline)
        throw new SensorError("TIMEOUT", `${this.label} conversion on AIN${channel} did not finish`);
      await sleep(1);
    }
    const data = await this.readConsistent(
      2,
      async (buffer) => buffer.writeUInt16BE(await this.#readRegister(REGS.CONVERSION)),
      "conversion data",
    );
    return rawToVolts(decodeConversion(data), pga);
  }
}
