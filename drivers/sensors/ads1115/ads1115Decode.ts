// Pure TI ADS1115 facts and maths (datasheet SBAS444, 9.6 register map): the config register
// layout, full-scale ranges per PGA setting, data rates, and raw <-> volts.

export const ADS1115_REGS = Object.freeze({ CONVERSION: 0x00, CONFIG: 0x01, LO_THRESH: 0x02, HI_THRESH: 0x03 });

/** Power-on values (9.6.3, 9.6.4): used to recognise the chip harmlessly. */
export const ADS1115_CONFIG_RESET = 0x8583;
export const ADS1115_LO_THRESH_RESET = 0x8000;
export const ADS1115_HI_THRESH_RESET = 0x7fff;
/** All four registers after power-on, indexed by register pointer (the conversion register reads 0). */
export const ADS1115_POWER_ON_REGISTERS: readonly number[] = Object.freeze([
  0x0000,
  ADS1115_CONFIG_RESET,
  ADS1115_LO_THRESH_RESET,
  ADS1115_HI_THRESH_RESET,
]);

export const CONFIG_BITS = Object.freeze({
  OS: 0x8000, // write 1: start a single conversion; read 0: converting, 1: idle
  MUX_SHIFT: 12,
  PGA_SHIFT: 9,
  MODE_SINGLE_SHOT: 0x0100,
  DR_SHIFT: 5,
  COMP_QUE_DISABLE: 0x0003,
});

/** Full-scale range in volts by PGA field (0b110 and 0b111 repeat ±0.256 V). */
export const FULL_SCALE_BY_PGA = Object.freeze([6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256]);

/** Gain names as Adafruit's library uses them (2/3 -> ±6.144 V ... 16 -> ±0.256 V) -> PGA field. */
export const PGA_BY_GAIN: ReadonlyMap<number, number> = new Map([
  [2 / 3, 0b000],
  [1, 0b001],
  [2, 0b010],
  [4, 0b011],
  [8, 0b100],
  [16, 0b101],
]);

/** Samples per second by DR field. */
export const DATA_RATES = Object.freeze([8, 16, 32, 64, 128, 250, 475, 860] as const);
export type DataRate = (typeof DATA_RATES)[number];

/** MUX field for a single-ended input AINn vs GND: 0b100 + n. */
export function singleEndedMux(channel: number): number {
  return 0b100 + channel;
}

/** Builds a single-shot config word: OS=1, MUX, PGA, MODE=1, DR, comparator disabled. */
export function singleShotConfig(channel: number, pga: number, dataRate: DataRate): number {
  const dr = DATA_RATES.indexOf(dataRate);
  return (
    CONFIG_BITS.OS |
    (singleEndedMux(channel) << CONFIG_BITS.MUX_SHIFT) |
    (pga << CONFIG_BITS.PGA_SHIFT) |
    CONFIG_BITS.MODE_SINGLE_SHOT |
    (dr << CONFIG_BITS.DR_SHIFT) |
    CONFIG_BITS.COMP_QUE_DISABLE
  );
}

/** The conversion register is a big-endian two's complement 16-bit value. */
export function decodeConversion(buf: Uint8Array): number {
  const raw = (buf[0]! << 8) | buf[1]!;
  return raw >= 0x8000 ? raw - 0x10000 : raw;
}

/** volts = raw · FS / 32768 (one LSB = FS / 2^15). */
export function rawToVolts(raw: number, pga: number): number {
  return (raw * FULL_SCALE_BY_PGA[pga & 0x07]!) / 32768;
}

export function voltsToRaw(volts: number, pga: number): number {
  const raw = Math.round((volts * 32768) / FULL_SCALE_BY_PGA[pga & 0x07]!);
  return Math.min(32767, Math.max(-32768, raw));
}

/** Conversion time in ms for a data rate (1/DR; the oscillator may be 10 % slow, 7.1 table). */
export function conversionMs(dataRate: number): number {
  return 1000 / dataRate;
}
