import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Outbox } from "../../../server/outbox/outbox.ts";
import {
  Clock,
  TOPIC,
  capturingLogger,
  committedSeqs,
  databaseBytes,
  indexOf,
  payloadFor,
  range,
  tempDir,
} from "./helpers.ts";

describe("Outbox bounds", () => {
  test("memory holds at most memoryMaxMessages pending after a tick; the rest is on disk", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const ob = Outbox.open({ dir: tempDir(), diskFlushMs: 1000, memoryMaxMessages: 100, now: clock.now });
    for (let i = 0; i < 1000; i++) {
      ob.enqueue(TOPIC, payloadFor(i), 1);
      const s = ob.status();
      assert.ok(s.queued - s.onDisk < 2 * 100, `in memory ${s.queued - s.onDisk} at ${i}`);
    }
    t.mock.timers.tick(500);
    const s = ob.status();
    assert.equal(s.queued, 1000);
    assert.ok(s.queued - s.onDisk <= 100, "after the tick memory is back within its bound");
    assert.deepEqual(
      ob.take(2000).map((m) => indexOf(m.payload)),
      range(0, 999),
    );
    ob.close();
  });

  test("over maxDiskBytes the oldest are dropped, counted and logged once; never the newest", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const dir = tempDir();
    const { log, lines } = capturingLogger();
    const maxDiskBytes = 256 * 1024;
    const ob = Outbox.open({ dir, diskFlushMs: 100, memoryMaxMessages: 50, maxDiskBytes, now: clock.now, log });
    const total = 3000;
    for (let i = 0; i < total; i++) {
      ob.enqueue(TOPIC, payloadFor(i, 40), 40);
      if (i % 100 === 99) {
        clock.t += 50;
        t.mock.timers.tick(50);
      }
    }
    ob.flush();
    const s = ob.status();
    assert.ok(s.dropped > 0, "something had to go");
    assert.equal(s.dropped + s.queued, total, "every message is either queued or counted as dropped");
    // In WAL mode the newest pages sit in the -wal until a checkpoint: measure the logical database size.
    const dbBytes = databaseBytes(dir);
    assert.ok(
      dbBytes <= maxDiskBytes * 1.1 + 4 * 4096,
      `database ${dbBytes} B stays within the budget ${maxDiskBytes} B`,
    );
    t.diagnostic(
      `database ${dbBytes} B (budget ${maxDiskBytes} B), file+wal ${s.diskBytes} B, dropped ${s.dropped}, queued ${s.queued}`,
    );
    const kept = ob.take(total).map((m) => indexOf(m.payload));
    assert.deepEqual(kept, range(total - kept.length, total - 1), "the newest survive, contiguous and in order");
    assert.equal(committedSeqs(dir).length, kept.length);
    const warnings = lines.filter((l) => l.level === "warn" && l.msg.includes("dropped"));
    assert.equal(warnings.length, 1, "rate-limited: one line per minute");
    ob.close();
  });
});
