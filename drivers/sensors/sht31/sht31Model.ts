// Command-level model of a Sensirion SHT3x (SHT30/31/35) for the simulated bus: 16-bit
// commands, single-shot measurements that take the typical time, a NACKed read header while no
// data is ready (datasheet 4.4 / 4.5), CRC on every word, and the status register.
import { i2cIoError } from "../../i2c/errors.ts";
import { busRead, ChipModelBase } from "../chipModel.ts";
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

interface Sht31State {
  status: number;
  /** What the next read returns: a measurement (once done) or the status word. */
  pending: { kind: "measure"; readyAt: number } | { kind: "status" } | null;
}

export class Sht31Model extends ChipModelBase<Sht31State> {
  readonly chip = "sht31";
  /** Count of measurements started, for tests. */
  measurements = 0;

  protected powerOnState(): Sht31State {
    return { status: SHT3X_STATUS_AFTER_RESET, pending: null };
  }

  write(data: Uint8Array): void {
    const st = this.state;
    // While a measurement runs the sensor does not acknowledge its address (datasheet 4.5).
    if (st.pending?.kind === "measure" && !this.isDone(st.pending.readyAt)) {
      throw i2cIoError("EREMOTEIO", "SHT3x busy measuring");
    }
    if (data.length < 2) return; // an address-only probe
    const cmd = (data[0]! << 8) | data[1]!;
    const repeatability = MEASURE[cmd];
    if (repeatability) {
      this.measurements++;
      st.pending = { kind: "measure", readyAt: this.now() + SHT3X_TYPICAL_MEASUREMENT_MS[repeatability] };
      st.status &= ~0x0002;
      return;
    }
    switch (cmd) {
      case CMD.SOFT_RESET:
        this.powerOnReset();
        return;
      case CMD.READ_STATUS:
        st.pending = { kind: "status" };
        return;
      case CMD.CLEAR_STATUS:
        st.status &= ~0x8c10; // bits 15, 11, 10, 4 (table 19)
        return;
      case CMD.HEATER_ON:
        st.status |= 0x2000;
        return;
      case CMD.HEATER_OFF:
        st.status &= ~0x2000;
        return;
      case CMD.BREAK:
        st.pending = null;
        return;
      default:
        st.status |= 0x0002; // command not processed (table 18, bit 1)
    }
  }

  read(length: number): Uint8Array {
    const st = this.state;
    if (st.pending?.kind === "status") {
      st.pending = null;
      return busRead(encodeWord(st.status), length);
    }
    if (st.pending?.kind === "measure" && this.isDone(st.pending.readyAt)) {
      st.pending = null;
      const out = new Uint8Array(6);
      out.set(encodeWord(celsiusToRaw(this.environment.temperature)), 0);
      out.set(encodeWord(humidityToRaw(this.environment.humidity)), 3);
      return busRead(out, length);
    }
    // No data available (or still measuring): the read header is NACKed (datasheet 4.5).
    throw i2cIoError("EREMOTEIO", "SHT3x has no data");
  }
}
