// Register map shared by the Bosch BME280 (T/P/H) and BMP280 (T/P); the BME280 is register-
// compatible with the BMP280 plus the humidity block (BME280 datasheet 5.2).

export const REGS = Object.freeze({
  CALIB_TP: 0x88, // 0x88-0x9F: dig_T1..dig_P9, 12 little-endian words (BMP280 3.11.2, BME280 4.2.2)
  CALIB_H1: 0xa1, // BME280 only: dig_H1, unsigned char
  CHIP_ID: 0xd0,
  RESET: 0xe0,
  CALIB_H2: 0xe1, // BME280 only: 0xE1-0xE7 dig_H2..dig_H6 (H4/H5 share the 0xE5 nibbles)
  CTRL_HUM: 0xf2, // BME280 only
  STATUS: 0xf3,
  CTRL_MEAS: 0xf4,
  CONFIG: 0xf5,
  DATA: 0xf7, // press_msb..press_xlsb, temp_msb..temp_xlsb, (BME280) hum_msb, hum_lsb
});

export const CALIB_TP_LENGTH = 24;
export const CALIB_H2_LENGTH = 7;

export const CHIP_IDS = Object.freeze({
  BME280: 0x60,
  BMP280: 0x58,
  /** Engineering samples of the BMP280 report 0x56 or 0x57 (BMP280 datasheet 4.3.1). */
  BMP280_SAMPLES: Object.freeze([0x56, 0x57]) as readonly number[],
});

/** Writing this to RESET performs a power-on-reset (datasheet 5.4.2 / 4.3.2). */
export const SOFT_RESET_WORD = 0xb6;
/** Start-up time t_startup after power-on or soft reset, 2 ms max (BME280 datasheet table 1). */
export const STARTUP_MS = 2;

export const STATUS_BITS = Object.freeze({
  MEASURING: 0x08, // set while a conversion runs
  IM_UPDATE: 0x01, // set while NVM calibration is copied to image registers
});

export const MODE = Object.freeze({ SLEEP: 0b00, FORCED: 0b01, NORMAL: 0b11 });

/** osrs_x field values: 0 = skipped, then x1..x16. */
export const OVERSAMPLE = Object.freeze({ 0: 0b000, 1: 0b001, 2: 0b010, 4: 0b011, 8: 0b100, 16: 0b101 } as const);
export const OVERSAMPLE_FACTORS = Object.freeze([1, 2, 4, 8, 16] as const);
export type Oversample = (typeof OVERSAMPLE_FACTORS)[number];

/** IIR filter coefficient field (config[4:2]). */
export const FILTER = Object.freeze({ 0: 0b000, 2: 0b001, 4: 0b010, 8: 0b011, 16: 0b100 } as const);
export const FILTER_COEFFICIENTS = Object.freeze([0, 2, 4, 8, 16] as const);
export type FilterCoefficient = (typeof FILTER_COEFFICIENTS)[number];

/** What a data register holds when its measurement was skipped (osrs = 0) or never ran. */
export const SKIPPED_20BIT = 0x80000;
export const SKIPPED_16BIT = 0x8000;

/** Decodes an osrs field back to its factor (0 = skipped; 0b101-0b111 all mean x16). */
export function oversampleFactor(field: number): number {
  return field === 0 ? 0 : Math.min(16, 1 << (field - 1));
}

/**
 * Maximum measurement time in ms (BME280 datasheet 9.1; BMP280 3.8.1 gives the same terms):
 * 1.25 + 2.3·osrs_t + (2.3·osrs_p + 0.575) + (2.3·osrs_h + 0.575), a skipped channel adds 0.
 */
export function maxMeasurementMs(t: number, p: number, h: number): number {
  return 1.25 + (t ? 2.3 * t : 0) + (p ? 2.3 * p + 0.575 : 0) + (h ? 2.3 * h + 0.575 : 0);
}

/** Typical measurement time in ms (same section): 1 + 2·osrs_t + (2·osrs_p + 0.5) + (2·osrs_h + 0.5). */
export function typicalMeasurementMs(t: number, p: number, h: number): number {
  return 1 + (t ? 2 * t : 0) + (p ? 2 * p + 0.5 : 0) + (h ? 2 * h + 0.5 : 0);
}
