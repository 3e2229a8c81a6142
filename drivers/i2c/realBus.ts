// The only file that touches npm `i2c-bus` (an optionalDependency with a native addon, so the
// app and CI still run where it is missing or failed to build; see anchors.md C2).
// It is loaded with a dynamic import on first use and adapted to our I2cBus interface.
import { constants, existsSync } from "node:fs";
import { access } from "node:fs/promises";
import type { BytesRead, BytesWritten, I2cBus } from "./types.ts";
import { checkAddress, errorCode } from "./errors.ts";

/** i2c-bus's PromisifiedBus (the package ships no types): our I2cBus is shaped after it, so the
 *  methods we call are exactly ours, less the bus number the adapter adds. */
type I2cBusLibBus = Omit<I2cBus, "busNumber">;

interface I2cBusLib {
  openPromisified(busNumber: number): Promise<I2cBusLibBus>;
}

function isI2cBusLib(mod: unknown): mod is I2cBusLib {
  return (
    typeof mod === "object" &&
    mod !== null &&
    typeof (mod as { openPromisified?: unknown }).openPromisified === "function"
  );
}

/** Whether the kernel exposes /dev/i2c-N (i2c-dev loaded and the bus enabled in config.txt). */
export function realI2cBusAvailable(busNumber: number): boolean {
  return existsSync(`/dev/i2c-${busNumber}`);
}

async function loadLibrary(): Promise<I2cBusLib> {
  let mod: unknown;
  try {
    // A variable specifier keeps TypeScript from resolving the untyped package.
    const name = "i2c-bus";
    mod = await import(name);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `The i2c-bus package is not installed or its native addon failed to build (${reason}); run "npm rebuild i2c-bus" on the Pi`,
    );
  }
  const lib = (mod as { default?: unknown }).default ?? mod;
  if (!isI2cBusLib(lib)) throw new Error("The i2c-bus package does not export openPromisified");
  return lib;
}

/**
 * i2c-bus opens /dev/i2c-N lazily, on the first transfer to each address, so a missing bus or a
 * permission problem would only show up later as a failed read. Check it up front instead, with
 * the fix in the message. The rejection keeps the errno name in `code`.
 */
async function checkDeviceNode(busNumber: number): Promise<void> {
  const path = `/dev/i2c-${busNumber}`;
  try {
    await access(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = errorCode(err) ?? "EIO";
    const hint =
      code === "ENOENT"
        ? 'enable I2C (raspi-config, or "dtparam=i2c_arm=on" in config.txt) and check the bus number'
        : code === "EACCES"
          ? 'add the service user to the "i2c" group'
          : "check the I2C setup";
    const error = new Error(`Cannot open ${path} (${code}): ${hint}`) as Error & { code: string };
    error.code = code;
    throw error;
  }
}

/** Opens /dev/i2c-N through i2c-bus. Rejects with code ENOENT/EACCES when the node is missing or locked. */
export async function openRealI2cBus(busNumber: number): Promise<I2cBus> {
  if (!Number.isInteger(busNumber) || busNumber < 0) throw new Error(`Invalid I2C bus number ${String(busNumber)}`);
  await checkDeviceNode(busNumber);
  const lib = await loadLibrary();
  const bus = await lib.openPromisified(busNumber);
  return new RealI2cBus(busNumber, bus);
}

class RealI2cBus implements I2cBus {
  constructor(
    readonly busNumber: number,
    private readonly bus: I2cBusLibBus,
  ) {}

  readByte(addr: number, cmd: number): Promise<number> {
    return this.bus.readByte(addr, cmd);
  }
  readWord(addr: number, cmd: number): Promise<number> {
    return this.bus.readWord(addr, cmd);
  }
  readI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesRead> {
    return this.bus.readI2cBlock(addr, cmd, length, buffer);
  }
  receiveByte(addr: number): Promise<number> {
    return this.bus.receiveByte(addr);
  }
  sendByte(addr: number, byte: number): Promise<void> {
    return this.bus.sendByte(addr, byte);
  }
  writeByte(addr: number, cmd: number, byte: number): Promise<void> {
    return this.bus.writeByte(addr, cmd, byte);
  }
  writeWord(addr: number, cmd: number, word: number): Promise<void> {
    return this.bus.writeWord(addr, cmd, word);
  }
  writeI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesWritten> {
    return this.bus.writeI2cBlock(addr, cmd, length, buffer);
  }
  i2cRead(addr: number, length: number, buffer: Buffer): Promise<BytesRead> {
    return this.bus.i2cRead(addr, length, buffer);
  }
  i2cWrite(addr: number, length: number, buffer: Buffer): Promise<BytesWritten> {
    return this.bus.i2cWrite(addr, length, buffer);
  }
  scan(startAddr = 0x03, endAddr = 0x77): Promise<number[]> {
    checkAddress(startAddr);
    checkAddress(endAddr);
    return this.bus.scan(startAddr, endAddr);
  }
  close(): Promise<void> {
    return this.bus.close();
  }
}
