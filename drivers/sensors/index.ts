// The sensor registry: one entry per supported chip, so the device runtime opens sensors by the
// name in the config and the demo attaches the matching chip model on the simulated bus.
import type { I2cBus } from "../i2c/types.ts";
import type { Sensor } from "./types.ts";
import type { ChipModel, ChipModelOptions } from "./chipModel.ts";
import { BOSCH_ADDRESSES, openBme280, openBmp280, parseBoschOptions } from "./bme280/bme280.ts";
import { BoschModel } from "./bme280/bme280Model.ts";
import { openSht31, parseSht31Options, SHT31_ADDRESSES } from "./sht31/sht31.ts";
import { Sht31Model } from "./sht31/sht31Model.ts";
import { BH1750_ADDRESSES, openBh1750, parseBh1750Options } from "./bh1750/bh1750.ts";
import { Bh1750Model } from "./bh1750/bh1750Model.ts";
import { ADS1115_ADDRESSES, openAds1115, parseAds1115Options } from "./ads1115/ads1115.ts";
import { Ads1115Model } from "./ads1115/ads1115Model.ts";
import { openSht4x, parseSht4xOptions, SHT4X_ADDRESSES } from "./sht4x/sht4x.ts";
import { Sht4xModel } from "./sht4x/sht4xModel.ts";
import { INA219_ADDRESSES, openIna219, parseIna219Options } from "./ina219/ina219.ts";
import { Ina219Model } from "./ina219/ina219Model.ts";

export const SENSOR_CHIP_NAMES = ["bme280", "bmp280", "sht31", "sht4x", "bh1750", "ads1115", "ina219"] as const;
export type SensorChip = (typeof SENSOR_CHIP_NAMES)[number];

/** Units per telemetry key, for every key any driver produces. */
export const SENSOR_UNITS: Readonly<Record<string, string>> = Object.freeze({
  temperature: "°C",
  humidity: "%",
  pressure: "hPa",
  lux: "lx",
  a0: "V",
  a1: "V",
  a2: "V",
  a3: "V",
  busVoltage: "V",
  shuntVoltage: "mV",
  current: "A",
  power: "W",
});

interface ChipEntry {
  open(bus: I2cBus, address: number, options?: Record<string, unknown>): Promise<Sensor>;
  /** Throws on invalid options (same messages as open). */
  parseOptions(options: Record<string, unknown>): unknown;
  addresses: readonly number[];
  model(opts?: ChipModelOptions): ChipModel;
}

const CHIPS: Readonly<Record<SensorChip, ChipEntry>> = Object.freeze({
  bme280: {
    open: openBme280,
    parseOptions: (o) => parseBoschOptions("bme280", o),
    addresses: BOSCH_ADDRESSES,
    model: (o) => new BoschModel({ ...o, variant: "bme280" }),
  },
  bmp280: {
    open: openBmp280,
    parseOptions: (o) => parseBoschOptions("bmp280", o),
    addresses: BOSCH_ADDRESSES,
    model: (o) => new BoschModel({ ...o, variant: "bmp280" }),
  },
  sht31: {
    open: openSht31,
    parseOptions: parseSht31Options,
    addresses: SHT31_ADDRESSES,
    model: (o) => new Sht31Model(o),
  },
  bh1750: {
    open: openBh1750,
    parseOptions: parseBh1750Options,
    addresses: BH1750_ADDRESSES,
    model: (o) => new Bh1750Model(o),
  },
  ads1115: {
    open: openAds1115,
    parseOptions: parseAds1115Options,
    addresses: ADS1115_ADDRESSES,
    model: (o) => new Ads1115Model(o),
  },
  sht4x: {
    open: openSht4x,
    parseOptions: parseSht4xOptions,
    addresses: SHT4X_ADDRESSES,
    model: (o) => new Sht4xModel(o),
  },
  ina219: {
    open: openIna219,
    parseOptions: parseIna219Options,
    addresses: INA219_ADDRESSES,
    model: (o) => new Ina219Model(o),
  },
});

function entry(chip: unknown): ChipEntry {
  if (typeof chip !== "string" || !(SENSOR_CHIP_NAMES as readonly string[]).includes(chip)) {
    throw new Error(`Unknown sensor chip ${JSON.stringify(chip)}; expected one of ${SENSOR_CHIP_NAMES.join(", ")}`);
  }
  return CHIPS[chip as SensorChip];
}

/**
 * Opens and initialises a sensor. Invalid chip, address or options throw synchronously with an
 * exact message; hardware problems reject with a SensorError (ABSENT, BAD_DATA, CRC, TIMEOUT, IO).
 */
export function openSensor(
  chip: SensorChip,
  bus: I2cBus,
  address: number,
  options: Record<string, unknown> = {},
): Promise<Sensor> {
  return entry(chip).open(bus, address, options);
}

/** The addresses a chip can be strapped to, first one the default. */
export function sensorAddresses(chip: SensorChip): readonly number[] {
  return entry(chip).addresses;
}

/** Validates options without touching hardware: null when fine, else the error message (for config checks). */
export function checkSensorOptions(chip: SensorChip, options: Record<string, unknown>): string | null {
  try {
    entry(chip).parseOptions(options);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** A register-level model of the chip for the simulated bus (demo mode and tests). */
export function createChipModel(chip: SensorChip, opts?: ChipModelOptions): ChipModel {
  return entry(chip).model(opts);
}

export type { ChipModel, ChipModelOptions, ChipEnvironment } from "./chipModel.ts";
export { SensorError } from "./types.ts";
export type { Sensor, SensorReading } from "./types.ts";
