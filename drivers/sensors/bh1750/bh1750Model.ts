// Opcode-level model of a ROHM BH1750 for the simulated bus: power states, reset, one-time and
// continuous modes, a measurement that takes the typical time, and a data register that keeps
// its last value until a new measurement completes (a read during a conversion returns the old
// result, as on the real part).
import { busRead, ChipModelBase, wordBE } from "../chipModel.ts";
import { BH1750_OPCODES as OP, BH1750_TYPICAL_MS, luxToCounts, type Bh1750Mode } from "./bh1750Decode.ts";

const MODE_OF: Record<number, { mode: Bh1750Mode; oneTime: boolean }> = {
  [OP.CONTINUOUS_HIGH]: { mode: "high", oneTime: false },
  [OP.CONTINUOUS_HIGH2]: { mode: "high2", oneTime: false },
  [OP.CONTINUOUS_LOW]: { mode: "low", oneTime: false },
  [OP.ONE_TIME_HIGH]: { mode: "high", oneTime: true },
  [OP.ONE_TIME_HIGH2]: { mode: "high2", oneTime: true },
  [OP.ONE_TIME_LOW]: { mode: "low", oneTime: true },
};

interface Bh1750State {
  poweredOn: boolean;
  /** The data register: the last finished measurement, in counts. */
  data: number;
  measuring: { mode: Bh1750Mode; oneTime: boolean; readyAt: number } | null;
}

export class Bh1750Model extends ChipModelBase<Bh1750State> {
  readonly chip = "bh1750";
  measurements = 0;

  protected powerOnState(): Bh1750State {
    return { poweredOn: false, data: 0, measuring: null };
  }

  write(data: Uint8Array): void {
    this.#tick();
    const st = this.state;
    for (const opcode of data) {
      const m = MODE_OF[opcode];
      if (m) {
        st.poweredOn = true;
        this.measurements++;
        st.measuring = { ...m, readyAt: this.now() + BH1750_TYPICAL_MS[m.mode] };
      } else if (opcode === OP.POWER_ON) {
        st.poweredOn = true;
      } else if (opcode === OP.POWER_DOWN) {
        st.poweredOn = false;
        st.measuring = null;
      } else if (opcode === OP.RESET) {
        if (st.poweredOn) st.data = 0;
      }
      // MTreg opcodes (0x40-0x47, 0x60-0x7F) are accepted and ignored: the model keeps MT = 69.
    }
  }

  read(length: number): Uint8Array {
    this.#tick();
    return busRead(wordBE(this.state.data), length);
  }

  #tick(): void {
    const m = this.state.measuring;
    if (!m || !this.isDone(m.readyAt)) return;
    this.state.data = luxToCounts(this.environment.lux, m.mode);
    if (m.oneTime) {
      this.state.measuring = null;
      this.state.poweredOn = false; // one-time modes power down after the conversion
    } else {
      m.readyAt = this.now() + BH1750_TYPICAL_MS[m.mode];
    }
  }
}
