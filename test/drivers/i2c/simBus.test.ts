import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import { RegisterDeviceModel, type I2cDeviceModel } from "../../../drivers/i2c/deviceModel.ts";

/** 256 plain registers with auto-increment, like a 24C02 EEPROM page. */
class RamModel extends RegisterDeviceModel {
  regs = new Uint8Array(256);
  protected readRegister(reg: number): number {
    return this.regs[reg]!;
  }
  protected writeRegister(reg: number, value: number): void {
    this.regs[reg] = value;
  }
}

/** Records raw transactions, for command chips. */
class WireLog implements I2cDeviceModel {
  log: string[] = [];
  write(data: Uint8Array): void {
    this.log.push(`W ${Buffer.from(data).toString("hex")}`);
  }
  read(length: number): Uint8Array {
    this.log.push(`R ${length}`);
    return Uint8Array.from({ length }, (_, i) => 0xa0 + i);
  }
}

const hasCode = (code: string) => (err: unknown) =>
  typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;

describe("SimI2cBus", () => {
  test("SMBus calls map onto pointer-register transactions", async () => {
    const bus = new SimI2cBus();
    const ram = new RamModel();
    bus.attach(0x50, ram);
    await bus.writeByte(0x50, 0x10, 0xab);
    assert.equal(await bus.readByte(0x50, 0x10), 0xab);
    await bus.writeWord(0x50, 0x20, 0x1234);
    assert.deepEqual([...ram.regs.subarray(0x20, 0x22)], [0x34, 0x12]); // SMBus words are LSB first
    assert.equal(await bus.readWord(0x50, 0x20), 0x1234);
    await bus.writeI2cBlock(0x50, 0x30, 3, Buffer.from([1, 2, 3, 99]));
    const buf = Buffer.alloc(4);
    const r = await bus.readI2cBlock(0x50, 0x30, 4, buf);
    assert.equal(r.bytesRead, 4);
    assert.deepEqual([...buf], [1, 2, 3, 0]);
    await bus.sendByte(0x50, 0x31);
    assert.equal(await bus.receiveByte(0x50), 2);
  });

  test("plain i2cWrite/i2cRead are single transactions", async () => {
    const bus = new SimI2cBus();
    const wire = new WireLog();
    bus.attach(0x44, wire);
    await bus.i2cWrite(0x44, 2, Buffer.from([0x24, 0x00, 0xff]));
    const buf = Buffer.alloc(3);
    await bus.i2cRead(0x44, 3, buf);
    assert.deepEqual(wire.log, ["W 2400", "R 3"]);
    assert.deepEqual([...buf], [0xa0, 0xa1, 0xa2]);
  });

  test("an absent address rejects with EREMOTEIO, like a NACK on Linux", async () => {
    const bus = new SimI2cBus();
    await assert.rejects(bus.readByte(0x40, 0), hasCode("EREMOTEIO"));
    await assert.rejects(bus.i2cWrite(0x40, 1, Buffer.from([1])), hasCode("EREMOTEIO"));
  });

  test("programmer errors throw synchronously with exact messages", () => {
    const bus = new SimI2cBus();
    assert.throws(() => bus.readByte(200, 0), { message: "Invalid I2C address 200" });
    assert.throws(() => bus.readByte(0x40, 256), { message: "Invalid I2C command 256" });
    assert.throws(() => bus.writeByte(0x40, 0, -1), { message: "Invalid byte -1" });
    assert.throws(() => bus.writeWord(0x40, 0, 0x10000), { message: "Invalid word 65536" });
    assert.throws(() => bus.readI2cBlock(0x40, 0, 33, Buffer.alloc(40)), { message: "Invalid buffer length 33" });
    assert.throws(() => bus.i2cRead(0x40, 4, Buffer.alloc(2)), {
      message: "Buffer too small: length 4 > buffer.length 2",
    });
    assert.throws(() => bus.attach(0x80, new RamModel()), { message: "Invalid I2C address 128" });
  });

  test("fail() injects a bounded number of errors, then the device answers again", async () => {
    const bus = new SimI2cBus();
    bus.attach(0x50, new RamModel());
    bus.fail(0x50, { code: "EIO", times: 2 });
    await assert.rejects(bus.readByte(0x50, 0), hasCode("EIO"));
    await assert.rejects(bus.readByte(0x50, 0), hasCode("EIO"));
    assert.equal(await bus.readByte(0x50, 0), 0);
    assert.equal(bus.stats.injectedFaults, 2);
  });

  test("garbage() returns seeded random bytes on reads only while on", async () => {
    const reads = async (seed: number): Promise<number[]> => {
      const bus = new SimI2cBus({ seed });
      bus.attach(0x50, new RamModel());
      bus.garbage(0x50, true);
      const buf = Buffer.alloc(16);
      await bus.readI2cBlock(0x50, 0, 16, buf);
      return [...buf];
    };
    const a = await reads(7);
    assert.deepEqual(a, await reads(7), "same seed, same noise");
    assert.notDeepEqual(
      a,
      Array.from({ length: 16 }, () => 0),
    );
    const bus = new SimI2cBus();
    bus.attach(0x50, new RamModel());
    bus.garbage(0x50, true);
    bus.garbage(0x50, false);
    assert.equal(await bus.readByte(0x50, 0), 0);
  });

  test("detach mid-run: later transfers NACK; re-attach is a power cycle", async () => {
    const bus = new SimI2cBus();
    let resets = 0;
    const ram = new RamModel();
    const model: I2cDeviceModel = {
      write: (d) => ram.write(d),
      read: (n) => ram.read(n),
      powerOnReset: () => {
        resets++;
      },
    };
    bus.attach(0x50, model);
    const pending = bus.readByte(0x50, 0);
    bus.detach(0x50); // before the transfer reaches the wire
    await assert.rejects(pending, hasCode("EREMOTEIO"));
    bus.attach(0x50, model);
    assert.equal(resets, 2);
    assert.equal(await bus.readByte(0x50, 0), 0);
    assert.throws(() => bus.attach(0x50, model), { message: "Address 0x50 is already in use" });
  });

  test("scan lists attached addresses within range", async () => {
    const bus = new SimI2cBus();
    for (const a of [0x23, 0x48, 0x76]) bus.attach(a, new RamModel());
    assert.deepEqual(await bus.scan(), [0x23, 0x48, 0x76]);
    assert.deepEqual(await bus.scan(0x40, 0x50), [0x48]);
  });

  test("a closed bus rejects", async () => {
    const bus = new SimI2cBus();
    bus.attach(0x50, new RamModel());
    await bus.close();
    await assert.rejects(bus.readByte(0x50, 0), hasCode("EBADF"));
  });
});
