// An I2cBus wrapper that makes a Pi's bus usable for months unattended:
// - one transfer at a time per bus (a promise-chain mutex), so two sensors polled on the same
//   tick never interleave a register-pointer write with someone else's read;
// - retries of transient errors (EREMOTEIO/EIO/ETIMEDOUT) with exponential backoff, because the
//   BCM2835 I2C block mishandles clock stretching and drops the odd transfer (fivdi/i2c-bus#36);
// - an overall time bound per call, so a wedged adapter cannot stall a poll loop forever;
// - counters for the health page.
// Programmer errors (bad address, byte, buffer) still throw synchronously and are never retried.
import type { BytesRead, BytesWritten, I2cBus } from "./types.ts";
import {
  checkAddress,
  checkBufferAndLength,
  checkByte,
  checkCommand,
  checkWord,
  errorCode,
  i2cIoError,
  isTransientI2cError,
  SMBUS_BLOCK_MAX,
} from "./errors.ts";

export interface ResilientBusOptions {
  /** Total tries per call, first one included; default 4. */
  attempts?: number;
  /** Delay before the first retry; doubles each time; default 5 ms. */
  baseDelayMs?: number;
  /** Cap on one backoff delay; default 100 ms. */
  maxDelayMs?: number;
  /** Upper bound on one call including queueing and retries; default 2000 ms; 0 disables. */
  callTimeoutMs?: number;
  /** Injected for tests; default setTimeout-based. */
  sleep?: (ms: number) => Promise<void>;
}

export interface ResilientBusStats {
  /** Calls completed successfully. */
  ok: number;
  /** Retries made (not counting first attempts). */
  retries: number;
  /** Calls that finally failed (after retries, or at once for a non-transient error). */
  failures: number;
  /** Calls that hit callTimeoutMs. */
  timeouts: number;
  /** Failed attempts by errno name. */
  errorsByCode: Record<string, number>;
  /** Backoff delays used, most recent last (bounded to 32 entries). */
  lastDelaysMs: number[];
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ResilientI2cBus implements I2cBus {
  readonly busNumber: number;
  readonly stats: ResilientBusStats = {
    ok: 0,
    retries: 0,
    failures: 0,
    timeouts: 0,
    errorsByCode: {},
    lastDelaysMs: [],
  };
  readonly #inner: I2cBus;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #callTimeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Tail of the mutex chain: every call runs after the previous one settled. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(inner: I2cBus, options: ResilientBusOptions = {}) {
    const attempts = options.attempts ?? 4;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 20)
      throw new Error(`Invalid attempts ${String(attempts)}: expected an integer 1-20`);
    const base = options.baseDelayMs ?? 5;
    if (!(base >= 0 && base <= 10_000)) throw new Error(`Invalid baseDelayMs ${String(base)}: expected 0-10000`);
    const max = options.maxDelayMs ?? 100;
    if (!(max >= base && max <= 60_000))
      throw new Error(`Invalid maxDelayMs ${String(max)}: expected baseDelayMs-60000`);
    const timeout = options.callTimeoutMs ?? 2000;
    if (!(timeout >= 0 && timeout <= 600_000))
      throw new Error(`Invalid callTimeoutMs ${String(timeout)}: expected 0-600000`);
    this.#inner = inner;
    this.busNumber = inner.busNumber;
    this.#attempts = attempts;
    this.#baseDelayMs = base;
    this.#maxDelayMs = max;
    this.#callTimeoutMs = timeout;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  readByte(addr: number, cmd: number): Promise<number> {
    checkAddress(addr);
    checkCommand(cmd);
    return this.#run(() => this.#inner.readByte(addr, cmd));
  }

  readWord(addr: number, cmd: number): Promise<number> {
    checkAddress(addr);
    checkCommand(cmd);
    return this.#run(() => this.#inner.readWord(addr, cmd));
  }

  readI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesRead> {
    checkAddress(addr);
    checkCommand(cmd);
    checkBufferAndLength(length, buffer, SMBUS_BLOCK_MAX);
    return this.#run(() => this.#inner.readI2cBlock(addr, cmd, length, buffer));
  }

  receiveByte(addr: number): Promise<number> {
    checkAddress(addr);
    return this.#run(() => this.#inner.receiveByte(addr));
  }

  sendByte(addr: number, byte: number): Promise<void> {
    checkAddress(addr);
    checkByte(byte);
    return this.#run(() => this.#inner.sendByte(addr, byte));
  }

  writeByte(addr: number, cmd: number, byte: number): Promise<void> {
    checkAddress(addr);
    checkCommand(cmd);
    checkByte(byte);
    return this.#run(() => this.#inner.writeByte(addr, cmd, byte));
  }

  writeWord(addr: number, cmd: number, word: number): Promise<void> {
    checkAddress(addr);
    checkCommand(cmd);
    checkWord(word);
    return this.#run(() => this.#inner.writeWord(addr, cmd, word));
  }

  writeI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesWritten> {
    checkAddress(addr);
    checkCommand(cmd);
    checkBufferAndLength(length, buffer, SMBUS_BLOCK_MAX);
    return this.#run(() => this.#inner.writeI2cBlock(addr, cmd, length, buffer));
  }

  i2cRead(addr: number, length: number, buffer: Buffer): Promise<BytesRead> {
    checkAddress(addr);
    checkBufferAndLength(length, buffer);
    return this.#run(() => this.#inner.i2cRead(addr, length, buffer));
  }

  i2cWrite(addr: number, length: number, buffer: Buffer): Promise<BytesWritten> {
    checkAddress(addr);
    checkBufferAndLength(length, buffer);
    return this.#run(() => this.#inner.i2cWrite(addr, length, buffer));
  }

  /** A scan is many probes whose NACKs are the answer, so it is serialised but never retried. */
  scan(startAddr?: number, endAddr?: number): Promise<number[]> {
    if (startAddr !== undefined) checkAddress(startAddr);
    if (endAddr !== undefined) checkAddress(endAddr);
    return this.#enqueue(() => this.#inner.scan(startAddr, endAddr), 0);
  }

  /** Waits for queued transfers, then closes the underlying bus. */
  close(): Promise<void> {
    return this.#enqueue(() => this.#inner.close(), 0);
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    return this.#enqueue(() => this.#withRetry(op), this.#callTimeoutMs);
  }

  /** Chains `op` after everything queued so far; the chain never rejects, callers do. */
  #enqueue<T>(op: () => Promise<T>, timeoutMs: number): Promise<T> {
    let timedOut = false;
    const result = this.#tail.then(() => {
      // A call that already timed out while queued is dropped, not run late.
      if (timedOut) throw i2cIoError("ETIMEDOUT", "dropped after waiting in the bus queue");
      return op();
    });
    this.#tail = result.catch(() => undefined);
    if (timeoutMs <= 0) return result;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        timedOut = true;
        this.stats.timeouts++;
        reject(i2cIoError("ETIMEDOUT", `bus ${this.busNumber} call took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      result.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  async #withRetry<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await op();
        this.stats.ok++;
        return value;
      } catch (err) {
        const code = errorCode(err) ?? "UNKNOWN";
        this.stats.errorsByCode[code] = (this.stats.errorsByCode[code] ?? 0) + 1;
        if (!isTransientI2cError(err) || attempt >= this.#attempts) {
          this.stats.failures++;
          throw err;
        }
        const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
        this.stats.retries++;
        this.stats.lastDelaysMs.push(delay);
        if (this.stats.lastDelaysMs.length > 32) this.stats.lastDelaysMs.shift();
        await this.#sleep(delay);
      }
    }
  }
}
