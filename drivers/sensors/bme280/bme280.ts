// Driver for the Bosch BME280 (temperature, pressure, humidity) and BMP280 (temperature,
// pressure). Layered like fivdi/bme280: options are validated first (exact messages), then
// init = chip id check with retries -> soft reset -> wait for im_update to clear -> read NVM
// calibration -> configure in sleep mode; each read runs one forced-mode conversion (the
// datasheet's recommended mode for weather monitoring, 3.5.1) and decodes it with the pure
// functions in bme280Compensation.ts.
import type { I2cBus } from "../../i2c/types.ts";
import { SensorError, type Sensor, type SensorReading } from "../types.ts";
import { checkAddressFor, checkKnownOptions, hex, oneOf, pollUntil, round, sleep } from "../common.ts";
import { I2cSensorBase } from "../sensorBase.ts";
import {
  compensate,
  isSkipped,
  parseHumidityCalibration,
  parseRawSample,
  parseTPCalibration,
} from "./bme280Compensation.ts";
import type { HumidityCalibration, TPCalibration } from "./bme280Compensation.ts";
import {
  CALIB_H2_LENGTH,
  CALIB_TP_LENGTH,
  CHIP_IDS,
  FILTER,
  FILTER_COEFFICIENTS,
  maxMeasurementMs,
  MODE,
  OVERSAMPLE,
  OVERSAMPLE_FACTORS,
  REGS,
  SOFT_RESET_WORD,
  STARTUP_MS,
  STATUS_BITS,
  type FilterCoefficient,
  type Oversample,
} from "./bme280Registers.ts";

export const BOSCH_ADDRESSES = Object.freeze([0x76, 0x77]);

export interface BoschOptions {
  temperatureOversampling: Oversample;
  pressureOversampling: Oversample;
  /** BME280 only. */
  humidityOversampling: Oversample;
  filter: FilterCoefficient;
}

const KNOWN_OPTIONS = ["temperatureOversampling", "pressureOversampling", "humidityOversampling", "filter"] as const;

/** Validates and fills in defaults (x1 everywhere, filter off: datasheet 3.5.1 weather monitoring). */
export function parseBoschOptions(chip: "bme280" | "bmp280", options: Record<string, unknown> = {}): BoschOptions {
  const known = chip === "bme280" ? KNOWN_OPTIONS : KNOWN_OPTIONS.filter((k) => k !== "humidityOversampling");
  checkKnownOptions(chip, options, known);
  return {
    temperatureOversampling: oneOf(
      chip,
      "temperatureOversampling",
      options.temperatureOversampling,
      OVERSAMPLE_FACTORS,
      1,
    ),
    pressureOversampling: oneOf(chip, "pressureOversampling", options.pressureOversampling, OVERSAMPLE_FACTORS, 1),
    humidityOversampling: oneOf(chip, "humidityOversampling", options.humidityOversampling, OVERSAMPLE_FACTORS, 1),
    filter: oneOf(chip, "filter", options.filter, FILTER_COEFFICIENTS, 0),
  };
}

/** Chip ids we accept per variant, and a hint when the other variant answers instead. */
function checkChipId(chip: "bme280" | "bmp280", id: number, address: number): void {
  const isBmp = id === CHIP_IDS.BMP280 || CHIP_IDS.BMP280_SAMPLES.includes(id);
  if (chip === "bme280" && id === CHIP_IDS.BME280) return;
  if (chip === "bmp280" && isBmp) return;
  if (chip === "bme280" && isBmp) {
    throw new SensorError(
      "BAD_DATA",
      `Expected a BME280 at ${hex(address)} but found a BMP280 (chip id ${hex(id)}), which has no humidity sensor; configure chip "bmp280"`,
    );
  }
  if (chip === "bmp280" && id === CHIP_IDS.BME280) {
    throw new SensorError(
      "BAD_DATA",
      `Expected a BMP280 at ${hex(address)} but found a BME280 (chip id 0x60); configure chip "bme280"`,
    );
  }
  throw new SensorError("BAD_DATA", `Unexpected chip id ${hex(id)} at ${hex(address)} for ${chip}`);
}

export function openBme280(bus: I2cBus, address: number, options?: Record<string, unknown>): Promise<Sensor> {
  return openBosch("bme280", bus, address, options);
}

export function openBmp280(bus: I2cBus, address: number, options?: Record<string, unknown>): Promise<Sensor> {
  return openBosch("bmp280", bus, address, options);
}

/** Validates synchronously (throws), then initialises the chip (rejects with SensorError). */
export function openBosch(
  chip: "bme280" | "bmp280",
  bus: I2cBus,
  address: number,
  options?: Record<string, unknown>,
): Promise<Sensor> {
  checkAddressFor(chip, address, BOSCH_ADDRESSES);
  return new BoschSensor(chip, bus, address, parseBoschOptions(chip, options)).open();
}

class BoschSensor extends I2cSensorBase<BoschOptions> {
  readonly units: Record<string, string>;
  readonly #hasHumidity: boolean;
  #tp: TPCalibration | null = null;
  #hum: HumidityCalibration | undefined;

  constructor(
    readonly chip: "bme280" | "bmp280",
    bus: I2cBus,
    address: number,
    opts: BoschOptions,
  ) {
    super(bus, address, opts);
    this.#hasHumidity = chip === "bme280";
    this.units = this.#hasHumidity
      ? { temperature: "°C", humidity: "%", pressure: "hPa" }
      : { temperature: "°C", pressure: "hPa" };
  }

  /** Leaves the chip in sleep mode (it already is after a forced conversion). */
  protected override async powerDown(): Promise<void> {
    await this.bus.writeByte(this.address, REGS.CTRL_MEAS, this.#ctrlMeas(MODE.SLEEP));
  }

  #ctrlMeas(mode: number): number {
    return (
      (OVERSAMPLE[this.options.temperatureOversampling] << 5) |
      (OVERSAMPLE[this.options.pressureOversampling] << 2) |
      mode
    );
  }

  protected async initialise(): Promise<void> {
    const a = this.address;
    // Chip id, with a few tries: right after power-up the first transfer can be NACKed.
    let id = -1;
    for (let attempt = 1; ; attempt++) {
      try {
        id = await this.bus.readByte(a, REGS.CHIP_ID);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        await sleep(2 * attempt);
      }
    }
    checkChipId(this.chip, id, a);
    await this.bus.writeByte(a, REGS.RESET, SOFT_RESET_WORD);
    await sleep(STARTUP_MS);
    // im_update is set while the NVM is copied into the image registers.
    await pollUntil(
      async () => ((await this.bus.readByte(a, REGS.STATUS)) & STATUS_BITS.IM_UPDATE) === 0,
      50,
      1,
      `${this.chip} NVM copy after reset`,
    );

    const tpBuf = Buffer.alloc(CALIB_TP_LENGTH);
    await this.bus.readI2cBlock(a, REGS.CALIB_TP, CALIB_TP_LENGTH, tpBuf);
    const tp = parseTPCalibration(tpBuf);
    // dig_T1/dig_P1 of 0 (or an all-0xFF NVM) would divide by zero or decode nonsense.
    if (tp.T1 === 0 || tp.P1 === 0 || tpBuf.every((b) => b === 0xff)) {
      throw new SensorError("BAD_DATA", `${this.label} has invalid calibration data`);
    }
    if (this.#hasHumidity) {
      const h1 = await this.bus.readByte(a, REGS.CALIB_H1);
      const hBuf = Buffer.alloc(CALIB_H2_LENGTH);
      await this.bus.readI2cBlock(a, REGS.CALIB_H2, CALIB_H2_LENGTH, hBuf);
      this.#hum = parseHumidityCalibration(h1, hBuf);
    }
    this.#tp = tp;

    // Configure in sleep mode: config writes may be ignored in normal mode (datasheet 5.4.6),
    // and ctrl_hum must precede ctrl_meas to take effect (5.4.3).
    await this.bus.writeByte(a, REGS.CONFIG, FILTER[this.options.filter] << 2);
    if (this.#hasHumidity) await this.bus.writeByte(a, REGS.CTRL_HUM, OVERSAMPLE[this.options.humidityOversampling]);
    await this.bus.writeByte(a, REGS.CTRL_MEAS, this.#ctrlMeas(MODE.SLEEP));
  }

  protected async measure(): Promise<SensorReading> {
    const a = this.address;
    const tp = this.#tp;
    if (!tp) throw new SensorError("IO", `${this.label} is not initialised`);
    const o = this.options;
    const maxMs = maxMeasurementMs(
      o.temperatureOversampling,
      o.pressureOversampling,
      this.#hasHumidity ? o.humidityOversampling : 0,
    );

    await this.bus.writeByte(a, REGS.CTRL_MEAS, this.#ctrlMeas(MODE.FORCED));
    await sleep(Math.ceil(maxMs));
    await pollUntil(
      async () => ((await this.bus.readByte(a, REGS.STATUS)) & STATUS_BITS.MEASURING) === 0,
      Math.ceil(maxMs * 2) + 20,
      2,
      `${this.chip} conversion`,
    );
    const ts = Date.now();

    // Read the data block twice: after a forced conversion the chip sleeps and the registers
    // hold still, so any difference is corruption on the wire (this chip has no CRC).
    const len = this.#hasHumidity ? 8 : 6;
    const sample = parseRawSample(
      await this.readConsistent(len, (buffer) => this.bus.readI2cBlock(a, REGS.DATA, len, buffer)),
    );
    // Skipped values mean the chip lost its configuration (power cycle): re-initialise next time.
    if (isSkipped(sample)) throw new SensorError("BAD_DATA", `${this.label} returned no measurement (chip reset?)`);

    const c = compensate(sample, tp, this.#hum);
    // Outside the operating range (datasheet 1: -40..85 °C, 300..1100 hPa) is not a reading.
    if (c.temperature < -40 || c.temperature > 85 || c.pressure < 300 || c.pressure > 1100) {
      throw new SensorError("BAD_DATA", `${this.label} decoded out of range (${c.temperature} °C, ${c.pressure} hPa)`);
    }
    const values: Record<string, number> = { temperature: round(c.temperature, 2), pressure: round(c.pressure, 2) };
    if (c.humidity !== undefined) values.humidity = round(c.humidity, 2);
    return { values, ts };
  }
}
