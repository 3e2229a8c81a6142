// Command-level model of a Sensirion SHT3x (SHT30/31/35) for the simulated bus: 16-bit
// commands, single-shot measurements that take the typical time, a NACKed read header while no
// data is ready (datasheet 4.4 / 4.5), CRC on every word, and the status register.
import { i2cIoError } from "../../i2c/errors.ts";
import { EnvironmentHolder, type ChipEnvironment, type ChipModel, type ChipModelOptions } from "../chipModel.ts";
import {
  celsiusToRaw,
  encodeWord,
  humidityToRaw,
  SHT3X_COMMANDS as CMD,
  SHT3X_STATUS_AFTER_RESET,
  SHT3X_TYPICAL_MEASUREMENT_MS,
} from "./sht31Decode.ts";

const MEASURE: Record<number, keyof typeof SHT3X_TYPICAL_MEASUREMENT_MS> = {
  [CMD.MEASURE_HIGH]: "high",
  [CMD.MEASURE_MEDIUM]: "medium",
  [CMD.MEASURE_LOW]: "low",
  [CMD.MEASURE_HIGH_STRETCH]: "high",
  [CMD.MEASURE_MEDIUM_STRETCH]: "medium",
  [CMD.MEASURE_LOW_STRETCH]: "low",
};

export class Sht31Model implements ChipModel {
  readonly chip = "sht31";
  readonly #holder: EnvironmentHolder;
  #status = SHT3X_STATUS_AFTER_RESET;
  #pending: { kind: "measure"; readyAt: number } | { kind: "status" } | null = null;
  /** Count of measurements started, for tests. */
  measurements = 0;

  constructor(options: ChipModelOptions = {}) {
    this.#holder = new EnvironmentHolder(options);
  }

  get environment(): Readonly<ChipEnvironment> {
    return this.#holder.env;
  }

  set(env: Partial<ChipEnvironment>): void {
    this.#holder.set(env);
  }

  setStuck(on: boolean): void {
    this.#holder.stuck = on;
  }

  powerOnReset(): void {
    this.#status = SHT3X_STATUS_AFTER_RESET;
    this.#pending = null;
  }

  write(data: Uint8Array): void {
    // While a measurement runs the sensor does not acknowledge its address (datasheet 4.5).
    if (this.#pending?.kind === "measure" && !this.#ready(this.#pending.readyAt)) {
      throw i2cIoError("EREMOTEIO", "SHT3x busy measuring");
    }
    if (data.length < 2) return; // an address-only probe
    const cmd = (data[0]! << 8) | data[1]!;
    const repeatability = MEASURE[cmd];
    if (repeatability) {
      this.measurements++;
      this.#pending = { kind: "measure", readyAt: this.#holder.now() + SHT3X_TYPICAL_MEASUREMENT_MS[repeatability] };
      this.#status &= ~0x0002;
      return;
    }
    switch (cmd) {
      case CMD.SOFT_RESET:
        this.powerOnReset();
        return;
      case CMD.READ_STATUS:
        this.#pending = { kind: "status" };
        return;
      case CMD.CLEAR_STATUS:
        this.#status &= ~0x8c10; // bits 15, 11, 10, 4 (table 19)
        return;
      case CMD.HEATER_ON:
        this.#status |= 0x2000;
        return;
      case CMD.HEATER_OFF:
        this.#status &= ~0x2000;
        return;
      case CMD.BREAK:
        this.#pending = null;
        return;
      default:
        this.#status |= 0x0002; // command not processed (table 18, bit 1)
    }
  }

  read(length: number): Uint8Array {
    const pending = this.#pending;
    if (pending?.kind === "status") {
      this.#pending = null;
      return this.#fill(encodeWord(this.#status), length);
    }
    if (pending?.kind === "measure" && this.#ready(pending.readyAt)) {
      this.#pending = null;
      const env = this.#holder.env;
      const out = new Uint8Array(6);
      out.set(encodeWord(celsiusToRaw(env.temperature)), 0);
      out.set(encodeWord(humidityToRaw(env.humidity)), 3);
      return this.#fill(out, length);
    }
    // No data available (or still measuring): the read header is NACKed (datasheet 4.5).
    throw i2cIoError("EREMOTEIO", "SHT3x has no data");
  }

  #ready(readyAt: number): boolean {
    return !this.#holder.stuck && this.#holder.now() >= readyAt;
  }

  /** Bytes past the end read as 0xFF (the bus idles high). */
  #fill(data: Uint8Array, length: number): Uint8Array {
    const out = new Uint8Array(length).fill(0xff);
    out.set(data.subarray(0, Math.min(length, data.length)));
    return out;
  }
}
