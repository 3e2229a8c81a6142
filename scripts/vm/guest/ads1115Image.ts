// A TI ADS1115 register image for i2c-stub, and the volts it must decode to, computed here from
// the datasheet (SBAS444, 9.3.3 and table 3: one code = FS / 2^15, ±4.096 V at PGA 001), on
// purpose NOT with drivers/sensors/ads1115: the VM test checks the driver against the datasheet.
//
// i2c-stub keeps one 16-bit word per register for SMBus word transfers, and the driver reads and
// writes the chip's big-endian registers as SMBus words with the bytes swapped
// (drivers/i2c/wordSwapped.ts). So each register is written with `i2cset ... w` holding the
// value byte-swapped, exactly the word a real ADS1115 answers to an SMBus read word (MSB first
// on the wire = the SMBus word's low byte).
//
// The image is static: i2c-stub converts nothing. The conversion register holds one code, so
// every channel reads the same volts; the config register echoes what the driver writes, and the
// driver writes OS = 1 (start), so the read-back OS bit says "idle" and the conversion counts as
// finished. The thresholds hold their power-on values, which is how the driver recognises the chip.

export const ADS1115_ADDRESS = 0x48;

/** The conversion code in the image: 10000 counts, 1.25 V at ±4.096 V full scale. */
export const CONVERSION_CODE = 10000;
/** The driver options the VM config uses: PGA ±4.096 V ("gain 1"), AIN0 and AIN3 vs GND. */
export const ADS1115_OPTIONS = { gain: 1, channels: [0, 3] } as const;
const FULL_SCALE_V = 4.096;

/** Register values as the datasheet gives them (9.6): conversion, config (power-on 0x8583), thresholds. */
export const REGISTERS: ReadonlyMap<number, number> = new Map([
  [0x00, CONVERSION_CODE],
  [0x01, 0x8583],
  [0x02, 0x8000],
  [0x03, 0x7fff],
]);

/** register -> the SMBus word i2c-stub must hold (the value's bytes swapped), for `i2cset ... w`. */
export function ads1115WordImage(): Map<number, number> {
  const img = new Map<number, number>();
  for (const [reg, value] of REGISTERS) img.set(reg, ((value & 0xff) << 8) | (value >> 8));
  return img;
}

/** What each configured channel must read, in volts: code · FS / 2^15 (two's complement code). */
export function expectedAds1115Volts(): Record<string, number> {
  const signed = CONVERSION_CODE >= 0x8000 ? CONVERSION_CODE - 0x10000 : CONVERSION_CODE;
  const volts = (signed * FULL_SCALE_V) / 32768;
  return Object.fromEntries(ADS1115_OPTIONS.channels.map((c) => [`a${c}`, volts]));
}
