// Pure ROHM BH1750FVI facts and maths (datasheet: instruction set table, measurement sequence).

export const BH1750_OPCODES = Object.freeze({
  POWER_DOWN: 0x00,
  POWER_ON: 0x01,
  /** Clears the data register; only accepted while powered on. */
  RESET: 0x07,
  CONTINUOUS_HIGH: 0x10,
  CONTINUOUS_HIGH2: 0x11,
  CONTINUOUS_LOW: 0x13,
  ONE_TIME_HIGH: 0x20,
  ONE_TIME_HIGH2: 0x21,
  ONE_TIME_LOW: 0x23,
});

export const BH1750_MODES = ["high", "high2", "low"] as const;
export type Bh1750Mode = (typeof BH1750_MODES)[number];

export const ONE_TIME_OPCODE: Readonly<Record<Bh1750Mode, number>> = Object.freeze({
  high: BH1750_OPCODES.ONE_TIME_HIGH,
  high2: BH1750_OPCODES.ONE_TIME_HIGH2,
  low: BH1750_OPCODES.ONE_TIME_LOW,
});

/** Measurement time in ms: H-resolution typ 120 / max 180, L-resolution typ 16 / max 24. */
export const BH1750_MAX_MS: Readonly<Record<Bh1750Mode, number>> = Object.freeze({ high: 180, high2: 180, low: 24 });
export const BH1750_TYPICAL_MS: Readonly<Record<Bh1750Mode, number>> = Object.freeze({
  high: 120,
  high2: 120,
  low: 16,
});

/**
 * lx = count / 1.2 at the default MTreg (69); H-resolution mode 2 has half the step, so
 * count / 2.4 (datasheet, "measurement sequence example" and mode table).
 */
export function countsToLux(counts: number, mode: Bh1750Mode): number {
  return mode === "high2" ? counts / 2.4 : counts / 1.2;
}

export function luxToCounts(lux: number, mode: Bh1750Mode): number {
  const counts = Math.round(mode === "high2" ? lux * 2.4 : lux * 1.2);
  return Math.min(0xffff, Math.max(0, counts));
}

/** The 2-byte result is big-endian (high byte first). */
export function decodeCounts(buf: Uint8Array): number {
  return (buf[0]! << 8) | buf[1]!;
}
