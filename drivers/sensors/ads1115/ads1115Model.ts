// Register-level model of a TI ADS1115 for the simulated bus: a pointer register, 16-bit
// big-endian registers, single-shot conversions with the OS bit cleared while converting and
// set when done, the PGA/MUX decoded from the config, and the volts from the environment.
import { EnvironmentHolder, type ChipEnvironment, type ChipModel, type ChipModelOptions } from "../chipModel.ts";
import {
  ADS1115_CONFIG_RESET,
  ADS1115_HI_THRESH_RESET,
  ADS1115_LO_THRESH_RESET,
  ADS1115_REGS as REGS,
  CONFIG_BITS,
  conversionMs,
  DATA_RATES,
  voltsToRaw,
} from "./ads1115Decode.ts";

/** Differential MUX settings (0b000-0b011) as [positive, negative] inputs; 0b1xx is AINx vs GND. */
const DIFFERENTIAL: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 3],
  [1, 3],
  [2, 3],
];

export class Ads1115Model implements ChipModel {
  readonly chip = "ads1115";
  readonly #holder: EnvironmentHolder;
  #pointer = 0;
  #regs = [0, ADS1115_CONFIG_RESET, ADS1115_LO_THRESH_RESET, ADS1115_HI_THRESH_RESET];
  #convertingUntil: number | null = null;
  conversions = 0;

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
    this.#pointer = 0;
    this.#regs = [0, ADS1115_CONFIG_RESET, ADS1115_LO_THRESH_RESET, ADS1115_HI_THRESH_RESET];
    this.#convertingUntil = null;
  }

  write(data: Uint8Array): void {
    this.#tick();
    if (data.length === 0) return;
    this.#pointer = data[0]! & 0x03;
    if (data.length < 3) return;
    const value = (data[1]! << 8) | data[2]!;
    if (this.#pointer === REGS.CONVERSION) return; // read-only
    if (this.#pointer !== REGS.CONFIG) {
      this.#regs[this.#pointer] = value;
      return;
    }
    // OS always reads back as the device state, never as written.
    const startSingle = (value & CONFIG_BITS.OS) !== 0 && (value & CONFIG_BITS.MODE_SINGLE_SHOT) !== 0;
    this.#regs[REGS.CONFIG] = (value & ~CONFIG_BITS.OS) | (this.#convertingUntil === null ? CONFIG_BITS.OS : 0);
    if (startSingle && this.#convertingUntil === null) {
      this.#convertingUntil = this.#holder.now() + conversionMs(DATA_RATES[(value >> CONFIG_BITS.DR_SHIFT) & 0x07]!);
      this.#regs[REGS.CONFIG]! &= ~CONFIG_BITS.OS;
    }
    if ((value & CONFIG_BITS.MODE_SINGLE_SHOT) === 0) this.#regs[REGS.CONVERSION] = this.#convert();
  }

  read(length: number): Uint8Array {
    this.#tick();
    if (this.#pointer === REGS.CONVERSION && (this.#regs[REGS.CONFIG]! & CONFIG_BITS.MODE_SINGLE_SHOT) === 0) {
      this.#regs[REGS.CONVERSION] = this.#convert(); // continuous mode: always fresh
    }
    const value = this.#regs[this.#pointer]! & 0xffff;
    const out = new Uint8Array(length).fill(0xff);
    out[0] = value >> 8;
    if (length > 1) out[1] = value & 0xff;
    return out;
  }

  #tick(): void {
    if (this.#convertingUntil === null || this.#holder.stuck || this.#holder.now() < this.#convertingUntil) return;
    this.#convertingUntil = null;
    this.conversions++;
    this.#regs[REGS.CONVERSION] = this.#convert();
    this.#regs[REGS.CONFIG]! |= CONFIG_BITS.OS;
  }

  /** The raw code for the current MUX and PGA settings, as a 16-bit two's complement word. */
  #convert(): number {
    const config = this.#regs[REGS.CONFIG]!;
    const mux = (config >> CONFIG_BITS.MUX_SHIFT) & 0x07;
    const pga = (config >> CONFIG_BITS.PGA_SHIFT) & 0x07;
    const v = (ch: number): number => this.#holder.env.volts[ch] ?? 0;
    const pair = DIFFERENTIAL[mux];
    const volts = mux >= 0b100 ? v(mux - 0b100) : pair ? v(pair[0]) - v(pair[1]) : 0;
    return voltsToRaw(volts, pga) & 0xffff;
  }
}
