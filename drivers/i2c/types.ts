// The I2C bus interface, shaped like i2c-bus's PromisifiedBus so the real adapter stays thin.

export interface BytesRead {
  bytesRead: number;
  buffer: Buffer;
}
export interface BytesWritten {
  bytesWritten: number;
  buffer: Buffer;
}

export interface I2cBus {
  readonly busNumber: number;
  readByte(addr: number, cmd: number): Promise<number>;
  readWord(addr: number, cmd: number): Promise<number>;
  readI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesRead>;
  receiveByte(addr: number): Promise<number>;
  sendByte(addr: number, byte: number): Promise<void>;
  writeByte(addr: number, cmd: number, byte: number): Promise<void>;
  writeWord(addr: number, cmd: number, word: number): Promise<void>;
  writeI2cBlock(addr: number, cmd: number, length: number, buffer: Buffer): Promise<BytesWritten>;
  /** Plain I2C transfers (no command byte), as SHT3x and BH1750 need. */
  i2cRead(addr: number, length: number, buffer: Buffer): Promise<BytesRead>;
  i2cWrite(addr: number, length: number, buffer: Buffer): Promise<BytesWritten>;
  /** Addresses that answer, 0x03-0x77. */
  scan(startAddr?: number, endAddr?: number): Promise<number[]>;
  close(): Promise<void>;
}
