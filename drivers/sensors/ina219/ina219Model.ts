// Register-level model of a TI INA219 for the simulated bus: a pointer register, 16-bit
// big-endian registers, reset to the power-on values (config 0x399F), triggered and continuous
// conversions that take the ADC settings' time, CNVR set when done and cleared by reading the
// power register, and current and power computed from the calibration the way the chip does
// (datasheet equations 4 and 5), including the overflow flag. The shunt resistance is the
// board's, so it comes from the device's options (default the 0.1 Ω of common breakouts).
import { busRead, ChipModelBase, wordBE, type ChipModelOptions } from "../chipModel.ts";
import {
  adcMicroseconds,
  BUS_CNVR,
  BUS_OVF,
  chipRegisters,
  CONFIG,
  INA219_CONFIG_POR,
  INA219_REGS as REGS,
  SHUNT_RANGES_MV,
} from "./ina219Decode.ts";

interface Ina219State {
  pointer: number;
  config: number;
  calibration: number;
  shunt: number;
  bus: number;
  current: number;
  power: number;
  convertingUntil: number | null;
}

export class Ina219Model extends ChipModelBase<Ina219State> {
  readonly chip = "ina219";
  readonly shuntOhms: number;
  conversions = 0;

  constructor(options: ChipModelOptions = {}) {
    super(options);
    const r = options.options?.shuntOhms;
    this.shuntOhms = typeof r === "number" && r > 0 ? r : 0.1;
  }

  protected powerOnState(): Ina219State {
    return {
      pointer: 0,
      config: INA219_CONFIG_POR,
      calibration: 0,
      shunt: 0,
      bus: 0,
      current: 0,
      power: 0,
      convertingUntil: null,
    };
  }

  write(data: Uint8Array): void {
    this.#tick();
    if (data.length === 0) return;
    const st = this.state;
    st.pointer = data[0]! & 0x07;
    if (data.length < 3) return;
    const value = (data[1]! << 8) | data[2]!;
    if (st.pointer === REGS.CALIBRATION) st.calibration = value & 0xfffe;
    if (st.pointer !== REGS.CONFIG) return; // the result registers are read-only
    if (value & CONFIG.RESET) {
      this.powerOnReset();
      return;
    }
    st.config = value;
    st.bus &= ~BUS_CNVR;
    const mode = value & CONFIG.MODE_MASK;
    if (mode === 0 || mode === 0b100) {
      st.convertingUntil = null; // power-down or ADC off
      return;
    }
    const micros =
      (mode & 0b001 ? adcMicroseconds((value >> CONFIG.SADC_SHIFT) & 0x0f) : 0) +
      (mode & 0b010 ? adcMicroseconds((value >> CONFIG.BADC_SHIFT) & 0x0f) : 0);
    st.convertingUntil = this.now() + micros / 1000;
  }

  read(length: number): Uint8Array {
    this.#tick();
    const st = this.state;
    const values: Record<number, number> = {
      [REGS.CONFIG]: st.config,
      [REGS.SHUNT]: st.shunt,
      [REGS.BUS]: st.bus,
      [REGS.POWER]: st.power,
      [REGS.CURRENT]: st.current,
      [REGS.CALIBRATION]: st.calibration,
    };
    const out = busRead(wordBE((values[st.pointer] ?? 0) & 0xffff), length);
    if (st.pointer === REGS.POWER) st.bus &= ~BUS_CNVR; // reading power clears CNVR (8.6.3.2)
    return out;
  }

  #tick(): void {
    const st = this.state;
    if (st.convertingUntil === null || !this.isDone(st.convertingUntil)) return;
    const continuous = (st.config & CONFIG.MODE_MASK) >= 0b101;
    st.convertingUntil = continuous ? this.now() : null;
    this.conversions++;
    const range = SHUNT_RANGES_MV[(st.config >> CONFIG.PG_SHIFT) & 0x03]!;
    const r = chipRegisters(
      this.environment.current * this.shuntOhms,
      this.environment.busVoltage,
      st.calibration,
      range,
    );
    st.shunt = r.shunt;
    // Without a calibration the current and power registers stay zero (8.5).
    st.current = st.calibration ? r.current : 0;
    st.power = st.calibration ? r.power : 0;
    st.bus = (r.bus << 3) | BUS_CNVR | (st.calibration && r.overflow ? BUS_OVF : 0);
  }
}
