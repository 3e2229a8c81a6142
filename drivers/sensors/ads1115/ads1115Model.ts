// Register-level model of a TI ADS1115 for the simulated bus: a pointer register, 16-bit
// big-endian registers, single-shot conversions with the OS bit cleared while converting and
// set when done, the PGA/MUX decoded from the config, and the volts from the environment.
import { busRead, ChipModelBase, wordBE } from "../chipModel.ts";
import {
  ADS1115_POWER_ON_REGISTERS,
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

interface Ads1115State {
  pointer: number;
  /** Register values by pointer: conversion, config, lo_thresh, hi_thresh. */
  regs: number[];
  convertingUntil: number | null;
}

export class Ads1115Model extends ChipModelBase<Ads1115State> {
  readonly chip = "ads1115";
  conversions = 0;

  protected powerOnState(): Ads1115State {
    return { pointer: 0, regs: [...ADS1115_POWER_ON_REGISTERS], convertingUntil: null };
  }

  write(data: Uint8Array): void {
    this.#tick();
    const st = this.state;
    if (data.length === 0) return;
    st.pointer = data[0]! & 0x03;
    if (data.length < 3) return;
    const value = (data[1]! << 8) | data[2]!;
    if (st.pointer === REGS.CONVERSION) return; // read-only
    if (st.pointer !== REGS.CONFIG) {
      st.regs[st.pointer] = value;
      return;
    }
    // OS always reads back as the device state, never as written.
    const startSingle = (value & CONFIG_BITS.OS) !== 0 && (value & CONFIG_BITS.MODE_SINGLE_SHOT) !== 0;
    st.regs[REGS.CONFIG] = (value & ~CONFIG_BITS.OS) | (st.convertingUntil === null ? CONFIG_BITS.OS : 0);
    if (startSingle && st.convertingUntil === null) {
      st.convertingUntil = this.now() + conversionMs(DATA_RATES[(value >> CONFIG_BITS.DR_SHIFT) & 0x07]!);
      st.regs[REGS.CONFIG]! &= ~CONFIG_BITS.OS;
    }
    if ((value & CONFIG_BITS.MODE_SINGLE_SHOT) === 0) st.regs[REGS.CONVERSION] = this.#convert();
  }

  read(length: number): Uint8Array {
    this.#tick();
    const st = this.state;
    if (st.pointer === REGS.CONVERSION && (st.regs[REGS.CONFIG]! & CONFIG_BITS.MODE_SINGLE_SHOT) === 0) {
      st.regs[REGS.CONVERSION] = this.#convert(); // continuous mode: always fresh
    }
    return busRead(wordBE(st.regs[st.pointer]! & 0xffff), length);
  }

  #tick(): void {
    const st = this.state;
    if (st.convertingUntil === null || !this.isDone(st.convertingUntil)) return;
    st.convertingUntil = null;
    this.conversions++;
    st.regs[REGS.CONVERSION] = this.#convert();
    st.regs[REGS.CONFIG]! |= CONFIG_BITS.OS;
  }

  /** The raw code for the current MUX and PGA settings, as a 16-bit two's complement word. */
  #convert(): number {
    const config = this.state.regs[REGS.CONFIG]!;
    const mux = (config >> CONFIG_BITS.MUX_SHIFT) & 0x07;
    const pga = (config >> CONFIG_BITS.PGA_SHIFT) & 0x07;
    const v = (ch: number): number => this.environment.volts[ch] ?? 0;
    const pair = DIFFERENTIAL[mux];
    const volts = mux >= 0b100 ? v(mux - 0b100) : pair ? v(pair[0]) - v(pair[1]) : 0;
    return voltsToRaw(volts, pga) & 0xffff;
  }
}
