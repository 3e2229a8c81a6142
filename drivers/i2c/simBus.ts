// A simulated I2C bus: chip models live at addresses; every SMBus/plain call is turned into the
// write/read transactions a real controller would put on the wire (see deviceModel.ts).
// Absent addresses NACK with EREMOTEIO, as Linux i2c-dev reports. Faults can be injected per
// address: a number of failing transfers, random garbage on reads, or detaching mid-run.
import type { BytesRead, BytesWritten, I2cBus } from "./types.ts";
import type { I2cDeviceModel } from "./deviceModel.ts";
import {
  checkAddress,
  checkBufferAndLength,
  checkByte,
  checkCommand,
  checkWord,
  FIRST_SCAN_ADDR,
  i2cIoError,
  LAST_SCAN_ADDR,
  SMBUS_BLOCK_MAX,
} from "./errors.ts";

export interface SimFault {
  code: "EREMOTEIO" | "EIO" | "ETIMEDOUT";
  /** How many transfers fail before the address behaves again; default 1, Infinity allowed. */
  times?: number;
}

export interface SimI2cBusOptions {
  busNumber?: number;
  /** Simulated time per transfer; 0 (default) still completes asynchronously (setImmediate). */
  latencyMs?: number;
  /** Seed for the garbage generator, so tests are repeatable. */
  seed?: number;
}

export interface SimBusStats {
  transfers: number;
  /** Highest number of transfers in progress at once; a serialising wrapper keeps this at 1. */
  maxConcurrent: number;
  injectedFaults: number;
}

interface Slot {
  model: I2cDeviceModel;
  garbage: boolean;
  fault: { code: string; remaining: number } | null;
}

export class SimI2cBus implements I2cBus {
  readonly busNumber: number;
  readonly stats: SimBusStats = { transfers: 0, maxConcurrent: 0, injectedFaults: 0 };
  readonly #slots = new Map<number, Slot>();
  readonly #latencyMs: number;
  #inFlight = 0;
  #rng: number;
  #closed = false;

  constructor(options: SimI2cBusOptions = {}) {
    this.busNumber = options.busNumber ?? 1;
    this.#latencyMs = options.latencyMs ?? 0;
    this.#rng = (options.seed ?? 0x2545f491) >>> 0 || 1;
  }

  /** Places (powers up) a chip at an address; re-attaching after detach is a power cycle. */
  attach(address: number, model: I2cDeviceModel): void {
    checkAddress(address);
    if (this.#slots.has(address)) throw new Error(`Address 0x${address.toString(16)} is already in use`);
    model.powerOnReset?.();
    this.#slots.set(address, { model, garbage: false, fault: null });
  }

  /** Removes the chip (a loose wire); later transfers to the address NACK. */
  detach(address: number): void {
    checkAddress(address);
    this.#slots.delete(address);
  }

  modelAt(address: number): I2cDeviceModel | undefined {
    return this.#slots.get(address)?.model;
  }

  /** The next `times` transfers to `address` fail with `code` (even when no chip is there). */
  fail(address: number, fault: SimFault): void {
    checkAddress(address);
    const slot = this.#slots.get(address);
    if (!slot) throw new Error(`No device at 0x${address.toString(16)} to inject a fault into`);
    slot.fault = { code: fault.code, remaining: fault.times ?? 1 };
  }

  /** While on, every read from `address` returns random bytes (a noisy or wrong device). */
  garbage(address: number, on: boolean): void {
    checkAddress(address);
    const slot = this.#slots.get(address);
    if (!slot) throw new Error(`No device at 0x${address.toString(16)} to corrupt`);
    slot.garbage = on;
  }

  readByte(addr: number, cmd: number): Promise<number> {
    checkAddress(addr);
    checkCommand(cmd);
    return this.#transfer(addr, (m) => {
      m.write(Uint8Array.of(cmd));
      return this.#read(addr, m, 1)[0]!;
    });
  }

  readWord(addr: number, cmd: number): Promise<number> {
    checkAddress(addr);
    checkCommand(cmd);
    return this.#transfer(addr, (m) => {
      m.write(Uint8Array.of(cmd));
      const b = this.#read(addr, m, 2);
      return b[0]! | (b[1]! << 8); // SMBus words are little-endian
    });
  }

  readI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesRead> {
    checkAddress(addr);
    checkCommand(cmd);
    checkBufferAndLength(length, buffer, SMBUS_BLOCK_MAX);
    return this.#transfer(addr, (m) => {
      m.write(Uint8Array.of(cmd));
      buffer.set(this.#read(addr, m, length));
      return { bytesRead: length, buffer };
    });
  }

  receiveByte(addr: number): Promise<number> {
    checkAddress(addr);
    return this.#transfer(addr, (m) => this.#read(addr, m, 1)[0]!);
  }

  sendByte(addr: number, byte: number): Promise<void> {
    checkAddress(addr);
    checkByte(byte);
    return this.#transfer(addr, (m) => m.write(Uint8Array.of(byte)));
  }

  writeByte(addr: number, cmd: number, byte: number): Promise<void> {
    checkAddress(addr);
    checkCommand(cmd);
    checkByte(byte);
    return this.#transfer(addr, (m) => m.write(Uint8Array.of(cmd, byte)));
  }

  writeWord(addr: number, cmd: number, word: number): Promise<void> {
    checkAddress(addr);
    checkCommand(cmd);
    checkWord(word);
    return this.#transfer(addr, (m) => m.write(Uint8Array.of(cmd, word & 0xff, word >> 8)));
  }

  writeI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesWritten> {
    checkAddress(addr);
    checkCommand(cmd);
    checkBufferAndLength(length, buffer, SMBUS_BLOCK_MAX);
    return this.#transfer(addr, (m) => {
      const data = new Uint8Array(length + 1);
      data[0] = cmd;
      data.set(buffer.subarray(0, length), 1);
      m.write(data);
      return { bytesWritten: length, buffer };
    });
  }

  i2cRead(addr: number, length: number, buffer: Buffer): Promise<BytesRead> {
    checkAddress(addr);
    checkBufferAndLength(length, buffer);
    return this.#transfer(addr, (m) => {
      buffer.set(this.#read(addr, m, length));
      return { bytesRead: length, buffer };
    });
  }

  i2cWrite(addr: number, length: number, buffer: Buffer): Promise<BytesWritten> {
    checkAddress(addr);
    checkBufferAndLength(length, buffer);
    return this.#transfer(addr, (m) => {
      m.write(Uint8Array.from(buffer.subarray(0, length)));
      return { bytesWritten: length, buffer };
    });
  }

  async scan(startAddr = FIRST_SCAN_ADDR, endAddr = LAST_SCAN_ADDR): Promise<number[]> {
    checkAddress(startAddr);
    checkAddress(endAddr);
    const found: number[] = [];
    for (let addr = startAddr; addr <= endAddr; addr++) {
      // A probe that fails (absent chip or injected fault) just means "nothing answers here",
      // which is how i2cdetect treats a NACK.
      try {
        await this.#transfer(addr, () => undefined);
        found.push(addr);
      } catch {
        /* not present */
      }
    }
    return found;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #read(addr: number, model: I2cDeviceModel, length: number): Uint8Array {
    const slot = this.#slots.get(addr);
    const data = model.read(length);
    if (slot?.garbage) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = this.#nextRandom() & 0xff;
      return out;
    }
    return data;
  }

  #nextRandom(): number {
    // xorshift32: deterministic, seeded, good enough to look like line noise.
    let x = this.#rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#rng = x >>> 0;
    return this.#rng;
  }

  async #transfer<T>(addr: number, op: (model: I2cDeviceModel) => T): Promise<T> {
    if (this.#closed) throw i2cIoError("EBADF", "bus is closed");
    this.#inFlight++;
    this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, this.#inFlight);
    try {
      if (this.#latencyMs > 0) await new Promise((r) => setTimeout(r, this.#latencyMs));
      else await new Promise((r) => setImmediate(r));
      this.stats.transfers++;
      const slot = this.#slots.get(addr);
      if (slot?.fault && slot.fault.remaining > 0) {
        slot.fault.remaining--;
        this.stats.injectedFaults++;
        const code = slot.fault.code;
        if (slot.fault.remaining <= 0) slot.fault = null;
        throw i2cIoError(code, `address 0x${addr.toString(16)}`);
      }
      // Detached mid-transfer or never there: the address byte is not acknowledged.
      if (!slot) throw i2cIoError("EREMOTEIO", `no device at 0x${addr.toString(16)}`);
      return op(slot.model);
    } finally {
      this.#inFlight--;
    }
  }
}
