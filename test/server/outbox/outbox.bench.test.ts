// An offline backlog: bytes written per data point (a byte count, not a time), and a drain after a
// restart that returns every message once, in order. The drain *rate* is a speed: it is measured by
// `npm run bench` (scripts/bench/backlog.ts), never asserted here (issue 15).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Outbox } from "../../../server/outbox/outbox.ts";
import { Clock, TOPIC, payloadFor, tempDir } from "./helpers.ts";

/** Bytes this process handed to write()/pwrite() so far (Linux /proc/self/io "wchar"); null elsewhere. */
function bytesWritten(): number | null {
  try {
    const m = /^wchar:\s+(\d+)$/m.exec(fs.readFileSync("/proc/self/io", "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

test(
  "offline backlog of 10k messages x 50 points: bytes written per point, then every message drained in order",
  { timeout: 60_000 },
  (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const dir = tempDir();
    const MESSAGES = 10_000;
    const POINTS = 50;
    const payloads = Array.from({ length: MESSAGES }, (_, i) => payloadFor(i, POINTS));
    const payloadBytes = payloads.reduce((n, p) => n + Buffer.byteLength(p), 0);

    const ob = Outbox.open({ dir, diskFlushMs: 1000, now: clock.now });
    const before = bytesWritten();
    // 100 messages every 100 ms, nobody taking: the flush timer spills them in batches.
    for (let i = 0; i < MESSAGES; i++) {
      ob.enqueue(TOPIC, payloads[i] as string, POINTS);
      if (i % 100 === 99) {
        clock.t += 100;
        t.mock.timers.tick(100);
      }
    }
    ob.close();
    const after = bytesWritten();
    const totalPoints = MESSAGES * POINTS;
    if (before !== null && after !== null) {
      const perPoint = (after - before) / totalPoints;
      t.diagnostic(
        `offline: ${(after - before) / 1e6} MB written for ${totalPoints} points = ${perPoint.toFixed(1)} B/point ` +
          `(payload alone ${(payloadBytes / totalPoints).toFixed(1)} B/point; WAL then checkpoint writes each page twice)`,
      );
      assert.ok(perPoint < 6 * (payloadBytes / totalPoints), "write amplification stays small");
    }

    const again = Outbox.open({ dir, diskFlushMs: 1000, now: clock.now });
    assert.equal(again.status().queued, MESSAGES);
    let drained = 0;
    let expected = -1;
    while (drained < MESSAGES) {
      const batch = again.take(100);
      assert.ok(batch.length > 0);
      for (const m of batch) {
        assert.ok(m.seq > expected, "strict order");
        expected = m.seq;
        again.ack(m.seq);
      }
      drained += batch.length;
      if (drained % 2000 === 0) t.mock.timers.tick(500); // the deletes go out with the flush ticks
    }
    t.mock.timers.tick(500);
    assert.equal(drained, MESSAGES);
    assert.equal(again.status().queued, 0);
    again.close();
  },
);
