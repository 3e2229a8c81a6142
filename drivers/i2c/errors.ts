// I2C error helpers and argument validators shared by every bus implementation.
//
// Two kinds of failure are kept apart on purpose (style.md rule 10):
// - programmer errors (an address outside 0-0x7f, a byte outside 0-255, a short buffer) throw
//   synchronously with an exact message, the same wording i2c-bus's check* helpers use;
// - I/O errors reject with an Error carrying the Linux errno name in `code`, as i2c-bus does.

/** An I/O error as the Linux i2c-dev driver reports it: `code` is the errno name. */
export interface I2cIoError extends Error {
  code: string;
}

const MESSAGES: Record<string, string> = {
  EREMOTEIO: "Remote I/O error",
  EIO: "Input/output error",
  ETIMEDOUT: "Connection timed out",
  ENXIO: "No such device or address",
  EBUSY: "Device or resource busy",
};

/** Builds an error shaped like the ones i2c-bus rejects with (`err.code === "EREMOTEIO"` etc.). */
export function i2cIoError(code: string, detail?: string): I2cIoError {
  const base = MESSAGES[code] ?? code;
  const err = new Error(detail ? `${code}, ${base}: ${detail}` : `${code}, ${base}`) as I2cIoError;
  err.code = code;
  return err;
}

/** The error's errno name, or undefined when it is not an errno-style error. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/**
 * Codes worth retrying: a NACK (EREMOTEIO), a bus-level glitch (EIO) or an adapter timeout.
 * The Pi's BCM2835 I2C block mishandles clock stretching, which surfaces as exactly these
 * (fivdi/i2c-bus#36); a retry a few milliseconds later usually succeeds.
 */
export const TRANSIENT_I2C_CODES: ReadonlySet<string> = new Set(["EREMOTEIO", "EIO", "ETIMEDOUT"]);

export function isTransientI2cError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && TRANSIENT_I2C_CODES.has(code);
}

/** 7-bit addresses only; 0x00-0x7f. */
export function checkAddress(addr: unknown): asserts addr is number {
  if (!Number.isInteger(addr) || (addr as number) < 0 || (addr as number) > 0x7f) {
    throw new Error(`Invalid I2C address ${String(addr)}`);
  }
}

export function checkCommand(cmd: unknown): asserts cmd is number {
  if (!Number.isInteger(cmd) || (cmd as number) < 0 || (cmd as number) > 0xff) {
    throw new Error(`Invalid I2C command ${String(cmd)}`);
  }
}

export function checkByte(byte: unknown): asserts byte is number {
  if (!Number.isInteger(byte) || (byte as number) < 0 || (byte as number) > 0xff) {
    throw new Error(`Invalid byte ${String(byte)}`);
  }
}

export function checkWord(word: unknown): asserts word is number {
  if (!Number.isInteger(word) || (word as number) < 0 || (word as number) > 0xffff) {
    throw new Error(`Invalid word ${String(word)}`);
  }
}

/** SMBus block transfers carry at most 32 bytes; plain transfers are limited only by the buffer. */
export function checkBufferAndLength(length: unknown, buffer: unknown, maxLength?: number): asserts length is number {
  if (!Buffer.isBuffer(buffer)) throw new Error("Invalid buffer: expected a Buffer");
  if (
    !Number.isInteger(length) ||
    (length as number) < 0 ||
    (maxLength !== undefined && (length as number) > maxLength)
  ) {
    throw new Error(`Invalid buffer length ${String(length)}`);
  }
  if ((length as number) > buffer.length) {
    throw new Error(`Buffer too small: length ${String(length)} > buffer.length ${buffer.length}`);
  }
}

export const SMBUS_BLOCK_MAX = 32;
/** First and last addresses i2cdetect probes by default (0x00-0x02 and 0x78-0x7f are reserved). */
export const FIRST_SCAN_ADDR = 0x03;
export const LAST_SCAN_ADDR = 0x77;
