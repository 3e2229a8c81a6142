// Driver for the Sensirion SHT4x (SHT40/41/43/45), the SHT3x's successor: one-byte commands,
// a single measurement per read at the configured precision, polled by re-sending the read
// header (the sensor NACKs it until data is ready), every word CRC-checked. The serial number
// is read at set-up: a valid, CRC-checked answer identifies the chip, and it is reported so a
// swapped sensor shows.
import type { I2cBus } from "../../i2c/types.ts";
import { errorCode } from "../../i2c/errors.ts";
import { SensorError, type Sensor, type SensorReading } from "../types.ts";
import { checkAddressFor, checkKnownOptions, oneOf, round, sleep } from "../common.ts";
import { I2cSensorBase } from "../sensorBase.ts";
import {
  decodeSht4xMeasurement,
  decodeSht4xSerial,
  SHT4X_COMMANDS as CMD,
  SHT4X_MAX_MEASUREMENT_MS,
  SHT4X_MEASURE_COMMAND,
  SHT4X_PRECISIONS,
  SHT4X_SOFT_RESET_MS,
  type Sht4xPrecision,
} from "./sht4xDecode.ts";

/** SHT40-AD1B 0x44, SHT40-BD1B 0x45, SHT40-CD1B 0x46 (datasheet table 9 / ordering). */
export const SHT4X_ADDRESSES = Object.freeze([0x44, 0x45, 0x46]);

export interface Sht4xOptions {
  precision: Sht4xPrecision;
}

export function parseSht4xOptions(options: Record<string, unknown> = {}): Sht4xOptions {
  checkKnownOptions("sht4x", options, ["precision"]);
  return { precision: oneOf("sht4x", "precision", options.precision, SHT4X_PRECISIONS, "high") };
}

export function openSht4x(bus: I2cBus, address: number, options?: Record<string, unknown>): Promise<Sensor> {
  checkAddressFor("sht4x", address, SHT4X_ADDRESSES);
  return new Sht4xSensor(bus, address, parseSht4xOptions(options)).open();
}

// The SHT4x goes idle by itself after each measurement, so closing needs no command.
class Sht4xSensor extends I2cSensorBase<Sht4xOptions> {
  readonly chip = "sht4x";
  readonly units = { temperature: "°C", humidity: "%" };
  serialNumber: string | undefined;

  async #send(command: number): Promise<void> {
    await this.bus.i2cWrite(this.address, 1, Buffer.from([command]));
  }

  /** Soft reset, then the serial number: two words with valid CRCs prove an SHT4x is there. */
  protected async initialise(): Promise<void> {
    await this.#send(CMD.SOFT_RESET);
    await sleep(Math.ceil(SHT4X_SOFT_RESET_MS));
    await this.#send(CMD.READ_SERIAL);
    const buf = Buffer.alloc(6);
    await this.#readWhenReady(buf, 1, "serial number");
    this.serialNumber = decodeSht4xSerial(buf).toString(16).padStart(8, "0");
  }

  protected async measure(): Promise<SensorReading> {
    const { precision } = this.options;
    await this.#send(SHT4X_MEASURE_COMMAND[precision]);
    const maxMs = SHT4X_MAX_MEASUREMENT_MS[precision];
    await sleep(Math.ceil(maxMs));
    const buf = Buffer.alloc(6);
    await this.#readWhenReady(buf, maxMs, "data");
    const ts = Date.now();
    const { temperature, humidity } = decodeSht4xMeasurement(buf);
    return { values: { temperature: round(temperature, 2), humidity: round(humidity, 2) }, ts };
  }

  /** Reads `buf`, re-sending the read header while it is NACKed, up to a bounded deadline. */
  async #readWhenReady(buf: Buffer, maxMs: number, what: string): Promise<void> {
    const started = performance.now();
    const deadline = started + maxMs * 2 + 20;
    for (;;) {
      try {
        await this.bus.i2cRead(this.address, buf.length, buf);
        return;
      } catch (err) {
        if (errorCode(err) !== "EREMOTEIO") throw err;
        if (performance.now() >= deadline) {
          const waited = Math.round(performance.now() - started);
          throw new SensorError(
            "TIMEOUT",
            `${this.label} gave no ${what} within ${waited} ms (still measuring, or disconnected)`,
          );
        }
        await sleep(2);
      }
    }
  }
}
