// Command-level model of a Sensirion SHT4x for the simulated bus: one-byte commands, a
// measurement that takes the typical time while the read header is NACKed (the SHT4x, like the
// SHT3x without clock stretching, does not acknowledge a read before its data is ready), CRC on
// every word, a serial number, and a soft reset. Unknown commands are NACKed.
import { i2cIoError } from "../../i2c/errors.ts";
import { busRead, ChipModelBase } from "../chipModel.ts";
import { encodeWord } from "../sht31/sht31Decode.ts";
import {
  SHT4X_COMMANDS as CMD,
  SHT4X_TYPICAL_MEASUREMENT_MS,
  sht4xCelsiusToRaw,
  sht4xHumidityToRaw,
  type Sht4xPrecision,
} from "./sht4xDecode.ts";

const MEASURE: Record<number, Sht4xPrecision> = {
  [CMD.MEASURE_HIGH]: "high",
  [CMD.MEASURE_MEDIUM]: "medium",
  [CMD.MEASURE_LOW]: "low",
};
const HEATERS = new Set<number>([
  CMD.HEATER_200MW_1S,
  CMD.HEATER_200MW_100MS,
  CMD.HEATER_110MW_1S,
  CMD.HEATER_110MW_100MS,
  CMD.HEATER_20MW_1S,
  CMD.HEATER_20MW_100MS,
]);

interface Sht4xState {
  pending: { kind: "measure"; readyAt: number } | { kind: "serial" } | null;
}

export interface Sht4xModelOptions {
  /** The chip's 32-bit serial number. */
  serial?: number;
}

export class Sht4xModel extends ChipModelBase<Sht4xState> {
  readonly chip = "sht4x";
  measurements = 0;
  readonly serial: number;

  constructor(options: ConstructorParameters<typeof ChipModelBase>[0] & Sht4xModelOptions = {}) {
    super(options);
    this.serial = options.serial ?? 0x0f8d_2e51;
  }

  protected powerOnState(): Sht4xState {
    return { pending: null };
  }

  write(data: Uint8Array): void {
    const st = this.state;
    if (st.pending?.kind === "measure" && !this.isDone(st.pending.readyAt))
      throw i2cIoError("EREMOTEIO", "SHT4x busy measuring");
    if (data.length === 0) return; // an address-only probe
    const cmd = data[0]!;
    const precision = MEASURE[cmd];
    if (precision) {
      this.measurements++;
      // The heater commands also measure; the model treats them as a high-precision measurement.
      st.pending = { kind: "measure", readyAt: this.now() + SHT4X_TYPICAL_MEASUREMENT_MS[precision] };
    } else if (HEATERS.has(cmd)) {
      st.pending = { kind: "measure", readyAt: this.now() + 1000 };
    } else if (cmd === CMD.READ_SERIAL) {
      st.pending = { kind: "serial" };
    } else if (cmd === CMD.SOFT_RESET) {
      this.powerOnReset();
    } else {
      throw i2cIoError("EREMOTEIO", `SHT4x does not know command 0x${cmd.toString(16)}`);
    }
  }

  read(length: number): Uint8Array {
    const st = this.state;
    if (st.pending?.kind === "serial") {
      st.pending = null;
      return busRead(
        Uint8Array.of(...encodeWord(Math.floor(this.serial / 0x10000)), ...encodeWord(this.serial & 0xffff)),
        length,
      );
    }
    if (st.pending?.kind === "measure" && this.isDone(st.pending.readyAt)) {
      st.pending = null;
      const t = encodeWord(sht4xCelsiusToRaw(this.environment.temperature));
      const rh = encodeWord(sht4xHumidityToRaw(this.environment.humidity));
      return busRead(Uint8Array.of(...t, ...rh), length);
    }
    throw i2cIoError("EREMOTEIO", "SHT4x has no data");
  }
}
