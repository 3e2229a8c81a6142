// Randomised check of the ordering promise against a trivial model: whatever mix of enqueue, take, ack,
// release, flush ticks and restarts happens, take() returns exactly the oldest unacked, not-in-flight seqs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Outbox } from "../../../server/outbox/outbox.ts";
import { Clock, TOPIC, indexOf, payloadFor, tempDir } from "./helpers.ts";
import { rng } from "../../fakes/rng.ts";

for (const seed of [1, 2, 3]) {
  test(`random operations keep strict order (seed ${seed})`, (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const rand = rng(seed);
    const clock = new Clock();
    const dir = tempDir();
    const opts = { dir, diskFlushMs: 100, memoryMaxMessages: 8, now: clock.now };
    let ob = Outbox.open(opts);
    const queued: number[] = []; // message indices, oldest first
    const inFlight = new Map<number, number>(); // index -> seq
    let produced = 0;
    let maxOnDisk = 0;
    for (let step = 0; step < 1500; step++) {
      const r = rand();
      if (r < 0.4) {
        const n = 1 + Math.floor(rand() * 6);
        for (let k = 0; k < n; k++) {
          ob.enqueue(TOPIC, payloadFor(produced, 3), 3);
          queued.push(produced++);
        }
      } else if (r < 0.6) {
        const n = 1 + Math.floor(rand() * 5);
        const got = ob.take(n);
        const expected = queued.filter((i) => !inFlight.has(i)).slice(0, n);
        assert.deepEqual(
          got.map((m) => indexOf(m.payload)),
          expected,
          `step ${step}`,
        );
        for (const m of got) inFlight.set(indexOf(m.payload), m.seq);
      } else if (r < 0.75) {
        for (const [i, seq] of inFlight) {
          if (rand() < 0.5) continue;
          ob.ack(seq);
          inFlight.delete(i);
          queued.splice(queued.indexOf(i), 1);
        }
      } else if (r < 0.85) {
        const back = [...inFlight].filter(() => rand() < 0.5);
        ob.release(back.map(([, seq]) => seq));
        for (const [i] of back) inFlight.delete(i);
      } else if (r < 0.98) {
        clock.t += 50;
        t.mock.timers.tick(50);
      } else {
        ob.close();
        ob = Outbox.open(opts);
        inFlight.clear();
      }
      assert.equal(ob.status().queued, queued.length, `queued count at step ${step}`);
      assert.equal(ob.inFlight, inFlight.size);
      maxOnDisk = Math.max(maxOnDisk, ob.status().onDisk);
    }
    assert.ok(maxOnDisk > 2 * opts.memoryMaxMessages, `the run exercised spilling (max on disk ${maxOnDisk})`);
    ob.release();
    assert.deepEqual(
      ob.take(100_000).map((m) => indexOf(m.payload)),
      queued,
    );
    ob.close();
  });
}
