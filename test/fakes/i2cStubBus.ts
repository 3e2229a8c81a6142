// Linux's i2c-stub (drivers/i2c/i2c-stub.c, stub_xfer, in the 6.12 kernel the virtual Pi runs) as
// an I2cBus, so a register image written the way scripts/vm writes it (i2cset b / w) reads back
// on the host exactly as it does in the VM. i2c-stub is an SMBus-only adapter, so the fake works
// at the SMBus-call level, not on the wire:
//   - each chip keeps one 16-bit word per register (words[256]);
//   - byte data writes replace the low byte and keep the high one; byte data reads return the low
//     byte; both leave the byte pointer at command + 1;
//   - word transfers read and write the whole word of `command`, as the SMBus delivers it (LSB
//     first: no swap);
//   - I2C-block transfers touch the low bytes of consecutive registers (never past 255);
//   - receive/send byte use and move the pointer;
//   - plain I2C messages (i2cRead/i2cWrite) are refused with EOPNOTSUPP: the adapter has no
//     master_xfer, so i2c_transfer refuses them; an address without a chip answers ENODEV.
// The register banks of i2c-stub (bank_reg...) and SMBus block data are not modelled: nothing of
// ours uses them.
import type { BytesRead, BytesWritten, I2cBus } from "../../drivers/i2c/types.ts";
import { i2cIoError, SMBUS_BLOCK_MAX } from "../../drivers/i2c/errors.ts";

interface StubChip {
  words: Uint16Array;
  pointer: number;
}

export class I2cStubBus implements I2cBus {
  readonly #chips = new Map<number, StubChip>();

  constructor(readonly busNumber = 11) {}

  /** Adds a chip (modprobe i2c-stub chip_addr=...) with all registers 0. */
  addChip(address: number): void {
    this.#chips.set(address, { words: new Uint16Array(256), pointer: 0 });
  }

  /** The stored word of a register, for assertions. */
  word(address: number, reg: number): number {
    return this.#chip(address).words[reg]!;
  }

  /** `i2cset -y N addr reg byte b` for every entry. */
  async writeByteImage(address: number, image: ReadonlyMap<number, number>): Promise<void> {
    for (const [reg, byte] of image) await this.writeByte(address, reg, byte);
  }

  /** `i2cset -y N addr reg word w` for every entry: the word as the SMBus carries it. */
  async writeWordImage(address: number, image: ReadonlyMap<number, number>): Promise<void> {
    for (const [reg, word] of image) await this.writeWord(address, reg, word);
  }

  #chip(address: number): StubChip {
    const chip = this.#chips.get(address);
    if (!chip) throw i2cIoError("ENODEV", `no i2c-stub chip at 0x${address.toString(16)}`);
    return chip;
  }

  async readByte(addr: number, cmd: number): Promise<number> {
    const chip = this.#chip(addr);
    chip.pointer = (cmd + 1) & 0xff;
    return chip.words[cmd]! & 0xff;
  }
  async writeByte(addr: number, cmd: number, byte: number): Promise<void> {
    const chip = this.#chip(addr);
    chip.words[cmd] = (chip.words[cmd]! & 0xff00) | (byte & 0xff);
    chip.pointer = (cmd + 1) & 0xff;
  }
  async readWord(addr: number, cmd: number): Promise<number> {
    return this.#chip(addr).words[cmd]!;
  }
  async writeWord(addr: number, cmd: number, word: number): Promise<void> {
    this.#chip(addr).words[cmd] = word;
  }
  async readI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesRead> {
    const chip = this.#chip(addr);
    if (length === 0 || length > SMBUS_BLOCK_MAX) throw i2cIoError("EINVAL", `block length ${length}`);
    const len = Math.min(length, 256 - cmd);
    for (let i = 0; i < len; i++) buffer[i] = chip.words[cmd + i]! & 0xff;
    return { bytesRead: len, buffer };
  }
  async writeI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesWritten> {
    const chip = this.#chip(addr);
    if (length === 0 || length > SMBUS_BLOCK_MAX) throw i2cIoError("EINVAL", `block length ${length}`);
    const len = Math.min(length, 256 - cmd);
    for (let i = 0; i < len; i++) chip.words[cmd + i] = (chip.words[cmd + i]! & 0xff00) | buffer[i]!;
    return { bytesWritten: len, buffer };
  }
  async receiveByte(addr: number): Promise<number> {
    const chip = this.#chip(addr);
    const byte = chip.words[chip.pointer]! & 0xff;
    chip.pointer = (chip.pointer + 1) & 0xff;
    return byte;
  }
  async sendByte(addr: number, byte: number): Promise<void> {
    this.#chip(addr).pointer = byte & 0xff;
  }
  async i2cRead(_addr: number, _length: number, _buffer: Buffer): Promise<BytesRead> {
    throw i2cIoError("EOPNOTSUPP", "i2c-stub has no plain I2C transfers");
  }
  async i2cWrite(_addr: number, _length: number, _buffer: Buffer): Promise<BytesWritten> {
    throw i2cIoError("EOPNOTSUPP", "i2c-stub has no plain I2C transfers");
  }
  async scan(startAddr = 0x03, endAddr = 0x77): Promise<number[]> {
    return [...this.#chips.keys()].filter((a) => a >= startAddr && a <= endAddr).sort((a, b) => a - b);
  }
  async close(): Promise<void> {}
}
