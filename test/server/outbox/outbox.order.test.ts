import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Outbox } from "../../../server/outbox/outbox.ts";
import { Clock, TOPIC, committedSeqs, indexOf, payloadFor, range, tempDir } from "./helpers.ts";

describe("Outbox order", () => {
  test("strict seq order across memory, disk, release and restart", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const dir = tempDir();
    const ob = Outbox.open({ dir, diskFlushMs: 100, memoryMaxMessages: 10, now: clock.now });
    const seqs = range(0, 49).map((i) => ob.enqueue(TOPIC, payloadFor(i), 1));
    assert.deepEqual(seqs, range(seqs[0] as number, (seqs[0] as number) + 49), "seqs are consecutive");
    clock.t += 50;
    t.mock.timers.tick(50);
    assert.equal(ob.status().queued, 50);
    assert.ok(ob.status().onDisk >= 40, "all but memoryMaxMessages spilled");

    const first = ob.take(7);
    assert.deepEqual(
      first.map((m) => indexOf(m.payload)),
      range(0, 6),
      "disk pages come back first",
    );
    assert.equal(ob.inFlight, 7);
    // While those are in flight, more arrive and memory spills again.
    for (let i = 50; i < 80; i++) ob.enqueue(TOPIC, payloadFor(i), 1);
    clock.t += 50;
    t.mock.timers.tick(50);
    const next = ob.take(5);
    assert.deepEqual(
      next.map((m) => indexOf(m.payload)),
      range(7, 11),
      "take skips in-flight messages",
    );
    ob.release(first.slice(3).map((m) => m.seq)); // 3..6 back to pending, before 12
    for (const m of first.slice(0, 3)) ob.ack(m.seq);
    assert.equal(ob.inFlight, 5);
    assert.deepEqual(
      ob.take(6).map((m) => indexOf(m.payload)),
      [3, 4, 5, 6, 12, 13],
      "released ones come back in order",
    );
    ob.release();
    assert.equal(ob.inFlight, 0);
    ob.close();

    const again = Outbox.open({ dir, diskFlushMs: 100, memoryMaxMessages: 10, now: clock.now });
    const all = again.take(1000);
    assert.deepEqual(
      all.map((m) => indexOf(m.payload)),
      range(3, 79),
      "restart keeps every unacked message in order",
    );
    assert.ok((all[0] as { seq: number }).seq < (all[all.length - 1] as { seq: number }).seq);
    const newSeq = again.enqueue(TOPIC, payloadFor(80), 1);
    assert.ok(newSeq > Math.max(...all.map((m) => m.seq)), "seq keeps growing across restarts");
    again.close();
  });

  test("take honours maxBytes but always returns at least one message", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const ob = Outbox.open({ dir: tempDir(), diskFlushMs: 100 });
    const big = "x".repeat(5000);
    ob.enqueue(TOPIC, big, 1);
    ob.enqueue(TOPIC, "{}", 1);
    ob.enqueue(TOPIC, "{}", 1);
    assert.equal(ob.take(10, 1000).length, 1, "an oversized message still goes out alone");
    assert.equal(ob.take(10, 2 * (TOPIC.length + 2)).length, 2);
    ob.close();
  });

  test("acked messages are deleted from disk in the next batch", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const dir = tempDir();
    const ob = Outbox.open({ dir, diskFlushMs: 100, now: clock.now });
    for (let i = 0; i < 20; i++) ob.enqueue(TOPIC, payloadFor(i), 1);
    t.mock.timers.tick(50);
    assert.equal(committedSeqs(dir).length, 0, "first tick after enqueue: too young to write");
    t.mock.timers.tick(50);
    assert.equal(committedSeqs(dir).length, 20, "unacked messages that saw a whole tick period are on disk");
    const taken = ob.take(8);
    for (const m of taken) ob.ack(m.seq);
    assert.equal(committedSeqs(dir).length, 20, "deletes wait for the batch");
    clock.t += 50;
    t.mock.timers.tick(50);
    assert.deepEqual(
      committedSeqs(dir),
      taken.map((m) => m.seq + 8).concat(range(taken[0]!.seq + 16, taken[0]!.seq + 19)),
    );
    assert.equal(ob.status().queued, 12);
    ob.close();
  });

  test("messages acked within diskFlushMs/2 never touch the disk", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const dir = tempDir();
    const ob = Outbox.open({ dir, diskFlushMs: 1000, now: clock.now });
    const sizeAfterOpen = ob.status().diskBytes;
    // 10 s of a connected gateway: 20 messages every 100 ms, PUBACK within 100-400 ms.
    const waiting: number[][] = [];
    for (let step = 0; step < 100; step++) {
      const batch: number[] = [];
      for (let i = 0; i < 20; i++) batch.push(ob.enqueue(TOPIC, payloadFor(step * 20 + i, 50), 50));
      ob.take(1000);
      waiting.push(batch);
      if (waiting.length > 4) for (const seq of waiting.shift() ?? []) ob.ack(seq);
      clock.t += 100;
      t.mock.timers.tick(100);
    }
    assert.equal(committedSeqs(dir).length, 0, "no row was ever written");
    assert.equal(ob.status().diskBytes, sizeAfterOpen, "file and WAL sizes did not move");
    assert.equal(ob.status().onDisk, 0);
    ob.close();
  });

  test("a backlog spills after diskFlushMs and survives close and reopen", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const dir = tempDir();
    const ob = Outbox.open({ dir, diskFlushMs: 1000, now: clock.now });
    for (let i = 0; i < 30; i++) ob.enqueue(TOPIC, payloadFor(i, 5), 5);
    clock.t += 400;
    t.mock.timers.tick(500);
    assert.equal(committedSeqs(dir).length, 0, "younger than diskFlushMs/2: still only in memory");
    clock.t += 200;
    t.mock.timers.tick(500);
    assert.equal(committedSeqs(dir).length, 30, "spilled within diskFlushMs of enqueue");
    const st = ob.status();
    assert.equal(st.points, 150);
    assert.equal(st.oldestTs, clock.t - 600);
    ob.close();
    const again = Outbox.open({ dir, diskFlushMs: 1000, now: clock.now });
    assert.equal(again.status().queued, 30);
    assert.equal(again.status().points, 150);
    assert.equal(again.status().oldestTs, clock.t - 600);
    assert.deepEqual(
      again.take(100).map((m) => indexOf(m.payload)),
      range(0, 29),
    );
    again.close();
  });

  test("onStatus fires at most once per tick, only on change", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const ob = Outbox.open({ dir: tempDir(), diskFlushMs: 100, now: clock.now });
    const seen: string[] = [];
    const off = ob.onStatus((s) => seen.push(`${s.queued}/${s.onDisk}`));
    for (let i = 0; i < 10; i++) ob.enqueue(TOPIC, payloadFor(i), 1);
    t.mock.timers.tick(50);
    assert.deepEqual(seen, ["10/0"]);
    t.mock.timers.tick(50);
    t.mock.timers.tick(50);
    assert.deepEqual(seen, ["10/0", "10/10"], "one call per tick with a change, none without");
    for (const m of ob.take(4)) ob.ack(m.seq);
    for (const m of ob.take(2)) ob.ack(m.seq);
    t.mock.timers.tick(50);
    assert.deepEqual(seen, ["10/0", "10/10", "4/4"], "several changes between ticks make one call");
    off();
    ob.close();
  });

  test("bad arguments throw with exact messages, unknown acks are ignored", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const ob = Outbox.open({ dir: tempDir() });
    assert.throws(() => ob.enqueue("", "{}", 1), { message: "Outbox.enqueue: topic must be a non-empty string" });
    assert.throws(() => ob.enqueue(TOPIC, "{}", -1), {
      message: "Outbox.enqueue: points must be a non-negative integer",
    });
    assert.throws(() => ob.take(0), { message: "Outbox.take: maxMessages must be a positive integer" });
    assert.throws(() => Outbox.open({ dir: tempDir(), diskFlushMs: 0 }), {
      message: "Outbox.open: diskFlushMs must be a positive number",
    });
    ob.ack(123456);
    ob.release([999]);
    assert.equal(ob.status().queued, 0);
    ob.close();
    assert.throws(() => ob.enqueue(TOPIC, "{}", 1), { message: "Outbox is closed" });
  });
});
