import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { ResilientI2cBus } from "../../../drivers/i2c/resilientBus.ts";
import { SimI2cBus } from "../../../drivers/i2c/simBus.ts";
import { RegisterDeviceModel } from "../../../drivers/i2c/deviceModel.ts";
import type { I2cBus } from "../../../drivers/i2c/types.ts";

class RamModel extends RegisterDeviceModel {
  regs = new Uint8Array(256);
  protected readRegister(reg: number): number {
    return this.regs[reg]!;
  }
  protected writeRegister(reg: number, value: number): void {
    this.regs[reg] = value;
  }
}

const hasCode = (code: string) => (err: unknown) =>
  typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;

function setup(latencyMs = 0, opts: ConstructorParameters<typeof ResilientI2cBus>[1] = {}) {
  const sim = new SimI2cBus({ latencyMs });
  sim.attach(0x50, new RamModel());
  sim.attach(0x51, new RamModel());
  const delays: number[] = [];
  const bus = new ResilientI2cBus(sim, {
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...opts,
  });
  return { sim, bus, delays };
}

describe("ResilientI2cBus", () => {
  test("serialises: concurrent calls from many callers never overlap on the wire", async () => {
    const { sim, bus } = setup(1);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      calls.push(bus.writeByte(i % 2 ? 0x50 : 0x51, i, i));
      calls.push(bus.readByte(i % 2 ? 0x50 : 0x51, i));
    }
    await Promise.all(calls);
    assert.equal(sim.stats.maxConcurrent, 1);
    assert.equal(bus.stats.ok, 40);
    // Without the wrapper the same load overlaps, so the check above means something.
    const raw = new SimI2cBus({ latencyMs: 1 });
    raw.attach(0x50, new RamModel());
    await Promise.all([raw.readByte(0x50, 0), raw.readByte(0x50, 1), raw.readByte(0x50, 2)]);
    assert.ok(raw.stats.maxConcurrent > 1);
  });

  test("keeps call order: a write queued before a read is seen by it", async () => {
    const { bus } = setup(1);
    const w = bus.writeByte(0x50, 7, 0x5a);
    const r = bus.readByte(0x50, 7);
    await w;
    assert.equal(await r, 0x5a);
  });

  test("retries EREMOTEIO/EIO/ETIMEDOUT with exponential backoff and succeeds", async () => {
    const { sim, bus, delays } = setup(0, { attempts: 4, baseDelayMs: 5 });
    sim.fail(0x50, { code: "EREMOTEIO", times: 3 });
    assert.equal(await bus.readByte(0x50, 0), 0);
    assert.deepEqual(delays, [5, 10, 20]);
    assert.equal(bus.stats.retries, 3);
    assert.equal(bus.stats.failures, 0);
    assert.equal(bus.stats.errorsByCode.EREMOTEIO, 3);
    sim.fail(0x50, { code: "ETIMEDOUT", times: 1 });
    await bus.writeByte(0x50, 1, 1);
    sim.fail(0x50, { code: "EIO", times: 1 });
    await bus.readByte(0x50, 1);
    assert.equal(bus.stats.retries, 5);
  });

  test("gives up after N attempts with the last error, counting the failure", async () => {
    const { sim, bus, delays } = setup(0, { attempts: 3, baseDelayMs: 2, maxDelayMs: 3 });
    sim.fail(0x50, { code: "EIO", times: Infinity });
    await assert.rejects(bus.readByte(0x50, 0), hasCode("EIO"));
    assert.deepEqual(delays, [2, 3]); // doubled, then capped
    assert.equal(bus.stats.failures, 1);
    assert.equal(sim.stats.injectedFaults, 3);
    // The queue keeps working for other devices after a failure.
    assert.equal(await bus.readByte(0x51, 0), 0);
  });

  test("does not retry non-transient errors", async () => {
    // Only readByte is called; the cast stands in for the methods this test never reaches.
    const failing: I2cBus = {
      busNumber: 1,
      readByte: () => Promise.reject(Object.assign(new Error("EACCES, Permission denied"), { code: "EACCES" })),
    } as unknown as I2cBus;
    const delays: number[] = [];
    const bus = new ResilientI2cBus(failing, {
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    await assert.rejects(bus.readByte(0x50, 0), hasCode("EACCES"));
    assert.equal(bus.stats.retries, 0);
    assert.deepEqual(delays, []);
  });

  test("programmer errors throw synchronously and never reach the bus", () => {
    const { sim, bus } = setup();
    assert.throws(() => bus.readByte(200, 0), { message: "Invalid I2C address 200" });
    assert.throws(() => bus.writeByte(0x50, 0, 300), { message: "Invalid byte 300" });
    assert.throws(() => bus.i2cWrite(0x50, 5, Buffer.alloc(1)), {
      message: "Buffer too small: length 5 > buffer.length 1",
    });
    assert.throws(() => new ResilientI2cBus(sim, { attempts: 0 }), {
      message: "Invalid attempts 0: expected an integer 1-20",
    });
    assert.equal(sim.stats.transfers, 0);
  });

  test("a call stuck in the adapter times out with ETIMEDOUT and later calls are not run late", async () => {
    let release!: () => void;
    const hung = new Promise<number>((resolve) => (release = () => resolve(1)));
    const sim = new SimI2cBus();
    sim.attach(0x50, new RamModel());
    let calls = 0;
    const inner = Object.create(sim) as SimI2cBus;
    inner.readByte = (addr: number, cmd: number) => (++calls === 1 ? hung : sim.readByte(addr, cmd));
    const bus = new ResilientI2cBus(inner, { callTimeoutMs: 30 });
    const first = bus.readByte(0x50, 0);
    const second = bus.readByte(0x50, 0);
    await assert.rejects(first, hasCode("ETIMEDOUT"));
    await assert.rejects(second, hasCode("ETIMEDOUT"));
    release();
    assert.equal(await bus.readByte(0x50, 0), 0);
    assert.equal(calls, 2, "the timed-out queued call was dropped, not sent");
    assert.equal(bus.stats.timeouts, 2);
  });

  test("scan is serialised and NACKs are its answer, not retried", async () => {
    const { bus, delays } = setup();
    assert.deepEqual(await bus.scan(), [0x50, 0x51]);
    assert.deepEqual(delays, []);
    await bus.close();
  });
});
