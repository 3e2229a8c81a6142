// A chip as Linux's i2c-stub answers it (drivers/i2c/i2c-stub.c), for the simulated bus: one
// register per address, byte and I2C-block transfers touching consecutive addresses, so a
// register image written byte by byte (as scripts/vm does with i2cset) reads back the same way
// it does in the virtual Pi. Word transfers are left out: i2c-stub keeps a separate 16-bit word
// per register for them, and no driver of ours uses them.
import type { I2cDeviceModel } from "../../drivers/i2c/deviceModel.ts";

export class I2cStubModel implements I2cDeviceModel {
  readonly regs = new Uint8Array(256);
  #pointer = 0;

  constructor(image: ReadonlyMap<number, number>) {
    for (const [reg, byte] of image) this.regs[reg] = byte;
  }

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#pointer = data[0]!;
    // I2C-block write: stores the bytes at consecutive registers (it stops at 255 like the stub).
    for (let i = 1; i < data.length && this.#pointer + i - 1 < 256; i++) this.regs[this.#pointer + i - 1] = data[i]!;
  }

  read(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.regs[(this.#pointer + i) & 0xff]!;
    return out;
  }
}
