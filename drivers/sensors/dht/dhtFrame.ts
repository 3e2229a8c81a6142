// The DHT22 (AM2302) / DHT11 40-bit frame and the kernel's decoding of it. The Pi never sees the
// bits (the dht11 IIO driver times them and hands over m°C and m%RH), but the twin produces
// frames like the sensor and decodes them like the kernel, so a frame the kernel would refuse is
// an EIO in the twin too. Sources: AM2302 datasheet section 7 (frame: RH high, RH low, T high,
// T low, checksum = low 8 bits of the sum; T bit 15 = sign; values in 0.1 units); DHT11
// datasheet (integral and decimal bytes); linux drivers/iio/humidity/dht11.c dht11_decode().

export type DhtType = "dht22" | "dht11";

/** The five bytes a DHT22 sends for a temperature and humidity (0.1 °C, 0.1 %RH resolution). */
export function dht22Frame(celsius: number, rh: number): Uint8Array {
  const h = Math.round(Math.min(100, Math.max(0, rh)) * 10);
  const tAbs = Math.round(Math.min(80, Math.abs(celsius)) * 10);
  const t = (celsius < 0 && tAbs !== 0 ? 0x8000 : 0) | tAbs;
  return withChecksum([h >> 8, h & 0xff, t >> 8, t & 0xff]);
}

/** The five bytes a DHT11 sends: whole °C and %RH, decimal bytes 0. */
export function dht11Frame(celsius: number, rh: number): Uint8Array {
  return withChecksum([
    Math.round(Math.min(99, Math.max(0, rh))),
    0,
    Math.round(Math.min(60, Math.max(0, celsius))),
    0,
  ]);
}

function withChecksum(bytes: number[]): Uint8Array {
  return Uint8Array.of(...bytes, bytes.reduce((a, b) => a + b, 0) & 0xff);
}

export type KernelDecode = { ok: true; milliCelsius: number; milliRh: number } | { ok: false; reason: string };

/**
 * dht11_decode(): checksum, then "hum_int < 4" means DHT22 format (RH never exceeds 100.0 % =
 * 0x03E8), else a DHT11 frame must have zero decimal bytes; anything else is -EIO.
 */
export function kernelDecode(frame: Uint8Array): KernelDecode {
  const [humInt, humDec, tempInt, tempDec, checksum] = frame as unknown as [number, number, number, number, number];
  if (((humInt + humDec + tempInt + tempDec) & 0xff) !== checksum) return { ok: false, reason: "invalid checksum" };
  if (humInt < 4) {
    const magnitude = ((tempInt & 0x7f) << 8) + tempDec;
    return {
      ok: true,
      milliCelsius: magnitude * (tempInt & 0x80 ? -100 : 100),
      milliRh: ((humInt << 8) + humDec) * 100,
    };
  }
  if (tempDec === 0 && humDec === 0) return { ok: true, milliCelsius: tempInt * 1000, milliRh: humInt * 1000 };
  return { ok: false, reason: `Don't know how to decode data: ${humInt} ${humDec} ${tempInt} ${tempDec}` };
}
