// Driver for the Sensirion SHT3x family (SHT30/SHT31/SHT35): single-shot measurements without
// clock stretching (command 0x2400 for high repeatability), polled for completion, each word
// checked against its CRC; a bad CRC is a SensorError("CRC"), never a value.
import type { I2cBus } from "../../i2c/types.ts";
import { SensorError, type Sensor, type SensorReading } from "../types.ts";
import { errorCode } from "../../i2c/errors.ts";
import { checkAddressFor, checkKnownOptions, oneOf, round, sleep } from "../common.ts";
import { I2cSensorBase } from "../sensorBase.ts";
import {
  decodeMeasurement,
  decodeWord,
  SHT3X_COMMANDS as CMD,
  SHT3X_MAX_MEASUREMENT_MS,
  SHT3X_SOFT_RESET_MS,
} from "./sht31Decode.ts";

export const SHT31_ADDRESSES = Object.freeze([0x44, 0x45]);
const REPEATABILITIES = ["high", "medium", "low"] as const;
type Repeatability = (typeof REPEATABILITIES)[number];
const MEASURE_COMMAND: Record<Repeatability, number> = {
  high: CMD.MEASURE_HIGH,
  medium: CMD.MEASURE_MEDIUM,
  low: CMD.MEASURE_LOW,
};

export interface Sht31Options {
  repeatability: Repeatability;
}

export function parseSht31Options(options: Record<string, unknown> = {}): Sht31Options {
  checkKnownOptions("sht31", options, ["repeatability"]);
  return { repeatability: oneOf("sht31", "repeatability", options.repeatability, REPEATABILITIES, "high") };
}

export function openSht31(bus: I2cBus, address: number, options?: Record<string, unknown>): Promise<Sensor> {
  checkAddressFor("sht31", address, SHT31_ADDRESSES);
  return new Sht31Sensor(bus, address, parseSht31Options(options)).open();
}

// The SHT3x sleeps by itself between single shots, so closing needs no command.
class Sht31Sensor extends I2cSensorBase<Sht31Options> {
  readonly chip = "sht31";
  readonly units = { temperature: "°C", humidity: "%" };

  async #send(command: number): Promise<void> {
    await this.bus.i2cWrite(this.address, 2, Buffer.from([command >> 8, command & 0xff]));
  }

  /** Soft reset, then read the status register: a valid CRC proves an SHT3x is there. */
  protected async initialise(): Promise<void> {
    await this.#send(CMD.SOFT_RESET);
    await sleep(Math.ceil(SHT3X_SOFT_RESET_MS));
    await this.#send(CMD.READ_STATUS);
    const buf = Buffer.alloc(3);
    await this.bus.i2cRead(this.address, 3, buf);
    decodeWord(buf, 0, "status");
    await this.#send(CMD.CLEAR_STATUS);
  }

  protected async measure(): Promise<SensorReading> {
    const maxMs = SHT3X_MAX_MEASUREMENT_MS[this.options.repeatability];
    // A NACK here means nobody is at the address (-> ABSENT via toSensorError).
    await this.#send(MEASURE_COMMAND[this.options.repeatability]);
    const started = performance.now();
    await sleep(maxMs + 1);
    const deadline = performance.now() + maxMs * 2 + 20;
    const buf = Buffer.alloc(6);
    // Without clock stretching the sensor NACKs the read header until data is ready (4.5).
    for (;;) {
      try {
        await this.bus.i2cRead(this.address, 6, buf);
        break;
      } catch (err) {
        if (errorCode(err) !== "EREMOTEIO") throw err;
        if (performance.now() >= deadline) {
          // A NACKed read header means "busy" or "gone"; the next command will tell which.
          const waited = Math.round(performance.now() - started);
          throw new SensorError(
            "TIMEOUT",
            `${this.label} gave no data within ${waited} ms (still measuring, or disconnected)`,
          );
        }
        await sleep(2);
      }
    }
    const ts = Date.now();
    const { temperature, humidity } = decodeMeasurement(buf);
    return { values: { temperature: round(temperature, 2), humidity: round(humidity, 2) }, ts };
  }
}
