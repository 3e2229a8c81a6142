// What a simulated chip looks like to the simulated bus: two I2C transactions, nothing more.
//
// Every SMBus call is a plain write, or a write followed by a (repeated-start) read, on the wire:
//   readByte(cmd)        = write [cmd]            + read 1
//   readWord(cmd)        = write [cmd]            + read 2 (LSB first)
//   readI2cBlock(cmd,n)  = write [cmd]            + read n
//   writeByte(cmd,b)     = write [cmd, b]
//   writeWord(cmd,w)     = write [cmd, lo, hi]
//   writeI2cBlock(cmd,…) = write [cmd, ...bytes]
//   sendByte(b)          = write [b]
//   receiveByte()        = read 1
//   i2cWrite / i2cRead   = write bytes / read n
// so a model that answers `write` and `read` serves both register chips (Bosch, ADS1115) and
// command chips (SHT3x, BH1750) with no special cases in the bus.

export interface I2cDeviceModel {
  /**
   * One write transaction. Throw an error whose `code` is "EREMOTEIO" to NACK it
   * (e.g. a command the chip does not know).
   */
  write(data: Uint8Array): void;
  /** One read transaction of `length` bytes; throw with code "EREMOTEIO" to NACK the header. */
  read(length: number): Uint8Array;
  /** Called when the model is attached (powered) on a bus: back to power-on register values. */
  powerOnReset?(): void;
}

/**
 * Base for chips with an 8-bit register pointer and auto-increment (Bosch BMx280 and most
 * others): the first byte of a write sets the pointer, further bytes are written to consecutive
 * registers; reads start at the pointer and increment it.
 */
export abstract class RegisterDeviceModel implements I2cDeviceModel {
  protected pointer = 0;

  protected abstract readRegister(reg: number): number;
  protected abstract writeRegister(reg: number, value: number): void;

  /** Called once at the start of a read burst, so a chip can latch a consistent data set. */
  protected beginRead(_startReg: number): void {}

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pointer = data[0]!;
    for (let i = 1; i < data.length; i++) {
      this.writeRegister(this.pointer, data[i]!);
      this.pointer = (this.pointer + 1) & 0xff;
    }
  }

  read(length: number): Uint8Array {
    this.beginRead(this.pointer);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      out[i] = this.readRegister(this.pointer) & 0xff;
      this.pointer = (this.pointer + 1) & 0xff;
    }
    return out;
  }
}
