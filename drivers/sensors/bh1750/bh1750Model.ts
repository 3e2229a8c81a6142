// Opcode-level model of a ROHM BH1750 for the simulated bus: power states, reset, one-time and
// continuous modes, a measurement that takes the typical time, and a data register that keeps
// its last value until a new measurement completes (a read during a conversion returns the old
// result, as on the real part).
import { EnvironmentHolder, type ChipEnvironment, type ChipModel, type ChipModelOptions } from "../chipModel.ts";
import { BH1750_OPCODES as OP, BH1750_TYPICAL_MS, luxToCounts, type Bh1750Mode } from "./bh1750Decode.ts";

const MODE_OF: Record<number, { mode: Bh1750Mode; oneTime: boolean }> = {
  [OP.CONTINUOUS_HIGH]: { mode: "high", oneTime: false },
  [OP.CONTINUOUS_HIGH2]: { mode: "high2", oneTime: false },
  [OP.CONTINUOUS_LOW]: { mode: "low", oneTime: false },
  [OP.ONE_TIME_HIGH]: { mode: "high", oneTime: true },
  [OP.ONE_TIME_HIGH2]: { mode: "high2", oneTime: true },
  [OP.ONE_TIME_LOW]: { mode: "low", oneTime: true },
};

export class Bh1750Model implements ChipModel {
  readonly chip = "bh1750";
  readonly #holder: EnvironmentHolder;
  #poweredOn = false;
  #data = 0;
  #measuring: { mode: Bh1750Mode; oneTime: boolean; readyAt: number } | null = null;
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
    this.#poweredOn = false;
    this.#data = 0;
    this.#measuring = null;
  }

  write(data: Uint8Array): void {
    this.#tick();
    for (const opcode of data) {
      const m = MODE_OF[opcode];
      if (m) {
        this.#poweredOn = true;
        this.measurements++;
        this.#measuring = { ...m, readyAt: this.#holder.now() + BH1750_TYPICAL_MS[m.mode] };
      } else if (opcode === OP.POWER_ON) {
        this.#poweredOn = true;
      } else if (opcode === OP.POWER_DOWN) {
        this.#poweredOn = false;
        this.#measuring = null;
      } else if (opcode === OP.RESET) {
        if (this.#poweredOn) this.#data = 0;
      }
      // MTreg opcodes (0x40-0x47, 0x60-0x7F) are accepted and ignored: the model keeps MT = 69.
    }
  }

  read(length: number): Uint8Array {
    this.#tick();
    const out = new Uint8Array(length).fill(0xff);
    out[0] = this.#data >> 8;
    if (length > 1) out[1] = this.#data & 0xff;
    return out;
  }

  #tick(): void {
    const m = this.#measuring;
    if (!m || this.#holder.stuck || this.#holder.now() < m.readyAt) return;
    this.#data = luxToCounts(this.#holder.env.lux, m.mode);
    if (m.oneTime) {
      this.#measuring = null;
      this.#poweredOn = false; // one-time modes power down after the conversion
    } else {
      m.readyAt = this.#holder.now() + BH1750_TYPICAL_MS[m.mode];
    }
  }
}
