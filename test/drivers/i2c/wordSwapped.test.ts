import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import type { I2cDeviceModel } from "../../../drivers/i2c/deviceModel.ts";
import { readWordSwapped, swapBytes16, writeWordSwapped } from "../../../drivers/i2c/wordSwapped.ts";

/** Records the transactions on the wire and answers reads with MSB 0x12, LSB 0x34 (big-endian 0x1234). */
class WireLog implements I2cDeviceModel {
  log: string[] = [];
  write(data: Uint8Array): void {
    this.log.push(`W ${Buffer.from(data).toString("hex")}`);
  }
  read(length: number): Uint8Array {
    this.log.push(`R ${length}`);
    return Uint8Array.from([0x12, 0x34]).subarray(0, length);
  }
}

describe("swapped SMBus words for big-endian 16-bit registers", () => {
  test("swapBytes16 exchanges the two bytes and nothing else", () => {
    assert.equal(swapBytes16(0x1234), 0x3412);
    assert.equal(swapBytes16(0x00ff), 0xff00);
    assert.equal(swapBytes16(0x8000), 0x0080);
    assert.equal(swapBytes16(swapBytes16(0xbeef)), 0xbeef);
  });

  test("a read is write [reg] + read 2, MSB first on the wire, as a 2-byte block read is", async () => {
    const bus = new SimI2cBus();
    const chip = new WireLog();
    bus.attach(0x48, chip);
    assert.equal(await readWordSwapped(bus, 0x48, 0x02), 0x1234);
    const block = Buffer.alloc(2);
    await bus.readI2cBlock(0x48, 0x02, 2, block);
    assert.equal(block.readUInt16BE(0), 0x1234);
    assert.deepEqual(chip.log, ["W 02", "R 2", "W 02", "R 2"]);
  });

  test("a write is write [reg, MSB, LSB] on the wire", async () => {
    const bus = new SimI2cBus();
    const chip = new WireLog();
    bus.attach(0x40, chip);
    await writeWordSwapped(bus, 0x40, 0x05, 0x1000);
    await writeWordSwapped(bus, 0x40, 0x00, 0x399f);
    assert.deepEqual(chip.log, ["W 051000", "W 00399f"]);
  });
});
