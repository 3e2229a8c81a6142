import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DeltaCoalescer, MAX_EVENTS_PER_FLUSH, type DeltaBatch } from "../../../server/http/deltaCoalescer.ts";
import { initialSnapshot } from "../../fakes/dashboardContext.ts";

const dev = initialSnapshot().devices[1]!;

describe("DeltaCoalescer", () => {
  test("first change goes out at once, then at most one flush per interval with the latest state", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
    const batches: DeltaBatch[] = [];
    const c = new DeltaCoalescer(100, (b) => batches.push(b));
    c.device({ ...dev, values: { temperature: 1 } });
    t.mock.timers.tick(0);
    assert.equal(batches.length, 1);
    // 100 updates/s for one second -> 10 flushes, each with only the newest value.
    for (let i = 0; i < 100; i++) {
      c.device({ ...dev, values: { temperature: i } });
      t.mock.timers.tick(10);
    }
    t.mock.timers.tick(100);
    assert.ok(batches.length <= 12, `${batches.length} flushes`);
    assert.ok(batches.every((b) => b.devices.length === 1));
    assert.equal(batches.at(-1)?.devices[0]?.values["temperature"], 99);
    c.stop();
  });

  test("a pending snapshot replaces every delta; event bursts are bounded", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
    const batches: DeltaBatch[] = [];
    const c = new DeltaCoalescer(100, (b) => batches.push(b));
    for (let i = 0; i < 1000; i++) c.event({ ts: i, kind: "info", text: `e${i}` });
    t.mock.timers.tick(0);
    assert.equal(batches[0]?.events.length, MAX_EVENTS_PER_FLUSH);
    assert.equal(batches[0]?.events.at(-1)?.text, "e999");
    c.device(dev);
    c.snapshot();
    t.mock.timers.tick(100);
    assert.deepEqual(batches[1], { snapshot: true, devices: [], connection: null, outbox: null, events: [] });
    c.stop();
    c.device(dev);
    t.mock.timers.tick(1000);
    assert.equal(batches.length, 2, "nothing after stop");
  });

  test("invalid interval is a programmer error", () => {
    assert.throws(() => new DeltaCoalescer(-1, () => {}), { message: "Invalid coalescing interval -1" });
  });
});
