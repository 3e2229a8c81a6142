import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import { Outbox } from "../../../server/outbox/outbox.ts";
import { Clock, TOPIC, capturingLogger, committedSeqs, indexOf, payloadFor, range, tempDir } from "./helpers.ts";

function asideFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.startsWith("outbox.sqlite.corrupt-") && !f.endsWith("-wal"));
}

describe("Outbox recovery", () => {
  test("a garbage outbox file is moved aside, loudly, and the outbox starts clean", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const dir = tempDir();
    const garbage = "this is not a database\n".repeat(400);
    fs.writeFileSync(path.join(dir, "outbox.sqlite"), garbage);
    const { log, lines } = capturingLogger();
    const ob = Outbox.open({ dir, log });
    const errors = lines.filter((l) => l.level === "error");
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg, /unreadable .*moved it aside to .*outbox\.sqlite\.corrupt-\d+/);
    const aside = asideFiles(dir);
    assert.equal(aside.length, 1);
    assert.equal(
      fs.readFileSync(path.join(dir, aside[0]!), "utf8"),
      garbage,
      "the corrupt file is kept for inspection",
    );
    assert.equal(ob.status().queued, 0);
    ob.enqueue(TOPIC, payloadFor(1), 1);
    ob.flush();
    assert.equal(committedSeqs(dir).length, 1, "the fresh file works");
    ob.close();
  });

  test("a database damaged inside its pages is detected at open and moved aside", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const dir = tempDir();
    const ob = Outbox.open({ dir });
    for (let i = 0; i < 500; i++) ob.enqueue(TOPIC, payloadFor(i, 30), 30);
    ob.close(); // close checkpoints the WAL into the main file
    const file = path.join(dir, "outbox.sqlite");
    const buf = fs.readFileSync(file);
    // Keep the 100-byte header (it still says "SQLite format 3") and scribble over the b-tree pages.
    for (let i = 4096; i < buf.length; i += 97) buf[i] = (buf[i]! + 113) & 0xff;
    fs.writeFileSync(file, buf);
    const { log, lines } = capturingLogger();
    const again = Outbox.open({ dir, log });
    assert.equal(lines.filter((l) => l.level === "error").length, 1);
    assert.equal(asideFiles(dir).length, 1);
    assert.equal(again.status().queued, 0);
    again.enqueue(TOPIC, payloadFor(1), 1);
    assert.equal(again.take(10).length, 1);
    again.close();
  });

  test("disk full: keeps running in memory (bounded, drops oldest), reports diskFull, then recovers", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = new Clock();
    const dir = tempDir();
    let db: Database.Database | undefined;
    const { log, lines } = capturingLogger();
    const ob = Outbox.open({
      dir,
      diskFlushMs: 100,
      memoryMaxMessages: 50,
      now: clock.now,
      log,
      onDbOpen: (d) => (db = d),
    });
    assert.ok(db);
    // SQLite's own quota: the file may not grow by a single page, as on a full partition (SQLITE_FULL).
    db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true }) as number}`);
    const statuses: boolean[] = [];
    ob.onStatus((s) => statuses.push(s.diskFull));
    for (let i = 0; i < 200; i++) {
      ob.enqueue(TOPIC, payloadFor(i, 20), 20);
      if (i % 20 === 19) {
        clock.t += 50;
        t.mock.timers.tick(50);
      }
    }
    let s = ob.status();
    assert.equal(s.diskFull, true);
    assert.ok(statuses.includes(true), "the dashboard was told");
    assert.equal(s.onDisk, 0);
    assert.ok(s.queued <= 50, `memory bounded: ${s.queued}`);
    assert.equal(s.dropped + s.queued, 200, "drops are counted");
    assert.equal(
      lines.filter((l) => l.level === "error" && l.msg.includes("SQLITE_FULL")).length,
      1,
      "one loud error, not one per tick",
    );

    // Space comes back: the next retry writes the backlog and clears the flag.
    db.pragma("max_page_count = 1073741823");
    for (let i = 200; i < 220; i++) ob.enqueue(TOPIC, payloadFor(i, 20), 20);
    clock.t += 1000;
    t.mock.timers.tick(50);
    s = ob.status();
    assert.equal(s.diskFull, false, "the first retry after 5 x diskFlushMs succeeds");
    // The 20 enqueued while still waiting for the retry pushed out the 20 oldest held ones (memory bound).
    assert.equal(s.queued, 50);
    assert.equal(s.onDisk, 30, "the held backlog is written at once");
    t.mock.timers.tick(50);
    s = ob.status();
    assert.equal(s.onDisk, s.queued, "and the newest follow one tick later");
    assert.equal(statuses[statuses.length - 1], false);
    const kept = ob.take(1000).map((m) => indexOf(m.payload));
    assert.deepEqual(kept, range(220 - kept.length, 219), "what survived is the newest, in order");
    assert.equal(committedSeqs(dir).length, kept.length);
    ob.close();
  });

  test("an unusable directory means memory-only operation, not a crash", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const dir = tempDir();
    const blocker = path.join(dir, "not-a-dir");
    fs.writeFileSync(blocker, "x");
    const { log, lines } = capturingLogger();
    const ob = Outbox.open({ dir: blocker, memoryMaxMessages: 10, log });
    assert.equal(ob.status().diskFull, true);
    assert.ok(lines.some((l) => l.level === "error" && l.msg.includes("running memory-only")));
    for (let i = 0; i < 30; i++) ob.enqueue(TOPIC, payloadFor(i), 1);
    assert.equal(ob.status().queued, 10);
    assert.equal(ob.status().dropped, 20);
    assert.deepEqual(
      ob.take(100).map((m) => indexOf(m.payload)),
      range(20, 29),
    );
    ob.close();
  });
});
