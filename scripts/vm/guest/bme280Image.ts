// A BME280 register image for i2c-stub, and what it must decode to, computed here with the
// double-precision compensation formulas of the Bosch datasheets (BMP280 3.12 and its worked
// example, BME280 8.1), on purpose NOT with drivers/sensors/bme280: the VM test checks the
// driver's result against the datasheet, not against itself.
//
// i2c-stub keeps one word per register and an I2C-block read returns the low byte of each
// consecutive register, so the image is a map register -> byte, written with `i2cset ... b`.

/** BMP280 datasheet 3.12, "Compensation formula example": its T and P calibration words. */
export const CALIBRATION = {
  T1: 27504,
  T2: 26435,
  T3: -1000,
  P1: 36477,
  P2: -10685,
  P3: 3024,
  P4: 2855,
  P5: 140,
  P6: -7,
  P7: 15500,
  P8: -14600,
  P9: 6000,
  // Humidity words in the range real parts carry (the datasheets give no worked example).
  H1: 75,
  H2: 362,
  H3: 0,
  H4: 313,
  H5: 50,
  H6: 30,
} as const;

/** Raw ADC values: adc_T and adc_P are the datasheet example's (25.08 °C, 100653.27 Pa). */
export const RAW = { adcT: 519888, adcP: 415148, adcH: 0x7000 } as const;

const CHIP_ID_BME280 = 0x60;

function le16(v: number): [number, number] {
  const u = v & 0xffff;
  return [u & 0xff, u >> 8];
}

/** register -> byte for everything the driver reads: chip id, status, calibration, data. */
export function bme280RegisterImage(): Map<number, number> {
  const c = CALIBRATION;
  const img = new Map<number, number>();
  const words = [c.T1, c.T2, c.T3, c.P1, c.P2, c.P3, c.P4, c.P5, c.P6, c.P7, c.P8, c.P9];
  words.forEach((w, i) => {
    const [lo, hi] = le16(w);
    img.set(0x88 + 2 * i, lo);
    img.set(0x89 + 2 * i, hi);
  });
  img.set(0xa1, c.H1);
  const [h2lo, h2hi] = le16(c.H2);
  img.set(0xe1, h2lo);
  img.set(0xe2, h2hi);
  img.set(0xe3, c.H3);
  // BME280 datasheet table 16: dig_H4 = 0xE4[7:0] << 4 | 0xE5[3:0]; dig_H5 = 0xE6 << 4 | 0xE5[7:4].
  img.set(0xe4, (c.H4 >> 4) & 0xff);
  img.set(0xe5, ((c.H5 & 0x0f) << 4) | (c.H4 & 0x0f));
  img.set(0xe6, (c.H5 >> 4) & 0xff);
  img.set(0xe7, c.H6 & 0xff);
  img.set(0xd0, CHIP_ID_BME280);
  img.set(0xf3, 0x00); // status: no NVM copy, no conversion running
  // Data 0xF7-0xFE: press msb/lsb/xlsb[7:4], temp msb/lsb/xlsb[7:4], hum msb/lsb.
  const { adcT, adcP, adcH } = RAW;
  img.set(0xf7, (adcP >> 12) & 0xff);
  img.set(0xf8, (adcP >> 4) & 0xff);
  img.set(0xf9, (adcP & 0x0f) << 4);
  img.set(0xfa, (adcT >> 12) & 0xff);
  img.set(0xfb, (adcT >> 4) & 0xff);
  img.set(0xfc, (adcT & 0x0f) << 4);
  img.set(0xfd, adcH >> 8);
  img.set(0xfe, adcH & 0xff);
  return img;
}

/** The datasheets' floating-point compensation: °C, hPa, %RH. */
export function expectedReading(): { temperature: number; pressure: number; humidity: number } {
  const c = CALIBRATION;
  const { adcT, adcP, adcH } = RAW;
  let v1 = (adcT / 16384 - c.T1 / 1024) * c.T2;
  let v2 = (adcT / 131072 - c.T1 / 8192) ** 2 * c.T3;
  const tFine = v1 + v2;
  const temperature = tFine / 5120;

  v1 = tFine / 2 - 64000;
  v2 = (v1 * v1 * c.P6) / 32768;
  v2 = v2 + v1 * c.P5 * 2;
  v2 = v2 / 4 + c.P4 * 65536;
  v1 = ((c.P3 * v1 * v1) / 524288 + c.P2 * v1) / 524288;
  v1 = (1 + v1 / 32768) * c.P1;
  let p = 1048576 - adcP;
  p = ((p - v2 / 4096) * 6250) / v1;
  p = p + ((c.P9 * p * p) / 2147483648 + (p * c.P8) / 32768 + c.P7) / 16;

  let h = tFine - 76800;
  h =
    (adcH - (c.H4 * 64 + (c.H5 / 16384) * h)) *
    ((c.H2 / 65536) * (1 + (c.H6 / 67108864) * h * (1 + (c.H3 / 67108864) * h)));
  h = h * (1 - (c.H1 * h) / 524288);
  return { temperature, pressure: p / 100, humidity: Math.min(100, Math.max(0, h)) };
}
