// Issue 12, poison outbox files: a valid-looking SQLite file whose `messages` table has untyped
// columns and integer or NULL payloads crashed every start (uncaught TypeError, a restart loop);
// one bad 4 KB page set the whole backlog aside. Now the schema and every row read are checked,
// what does not fit is quarantined and counted, and what can still be read is delivered.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { Outbox } from "../../../server/outbox/outbox.ts";
import { TOPIC, capturingLogger, indexOf, payloadFor, range, tempDir } from "./helpers.ts";

function asideFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith("outbox.sqlite.corrupt-") && !f.endsWith("-wal") && !f.endsWith("-shm"));
}

function drain(ob: Outbox): number[] {
  const out: number[] = [];
  for (;;) {
    const batch = ob.take(100);
    if (batch.length === 0) return out;
    for (const m of batch) out.push(indexOf(m.payload));
    for (const m of batch) ob.ack(m.seq);
  }
}

describe("poison outbox files", () => {
  test("untyped columns with integer and NULL payloads: no crash, valid rows delivered in order, the rest counted and kept aside", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const dir = tempDir();
    const db = new Database(path.join(dir, "outbox.sqlite"));
    db.exec(
      "CREATE TABLE messages (seq INTEGER PRIMARY KEY, ts, points, topic, payload); CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;",
    );
    const insert = db.prepare("INSERT INTO messages VALUES (?, ?, ?, ?, ?)");
    for (let i = 1; i <= 20; i++) insert.run(i, 1_700_000_000_000 + i, 1, TOPIC, payloadFor(i));
    insert.run(21, 1_700_000_000_021, 1, TOPIC, 12345);
    insert.run(22, 1_700_000_000_022, 1, TOPIC, null);
    insert.run(23, "yesterday", 1, TOPIC, payloadFor(23));
    for (let i = 24; i <= 30; i++) insert.run(i, 1_700_000_000_000 + i, 1, TOPIC, payloadFor(i));
    db.close();
    const { log, lines } = capturingLogger();
    const ob = Outbox.open({ dir, log });
    assert.deepEqual(drain(ob), [...range(1, 20), ...range(24, 30)], "every valid row, in order");
    const error = lines.find((l) => l.level === "error" && l.msg.includes("moved it aside"));
    assert.ok(error, "reported");
    assert.match(error.msg, /foreign layout/);
    assert.match(
      error.msg,
      /27 messages recovered from it, 0 lost in unreadable pages, 3 with values that do not fit left in it/,
    );
    assert.equal(asideFiles(dir).length, 1, "the original is kept for inspection");
    ob.enqueue(TOPIC, payloadFor(99), 1);
    ob.flush();
    ob.close();
    const again = Outbox.open({ dir, log });
    assert.deepEqual(drain(again), [99], "the new file works across a restart");
    again.close();
  });

  test("the right schema with a value that does not fit: that row is quarantined at read, the rest flows", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const dir = tempDir();
    const ob = Outbox.open({ dir });
    for (let i = 1; i <= 10; i++) ob.enqueue(TOPIC, payloadFor(i), 1);
    ob.flush();
    ob.close();
    const db = new Database(path.join(dir, "outbox.sqlite"));
    // INTEGER affinity keeps a text that is not a number as text; NOT NULL holds.
    db.prepare(
      "UPDATE messages SET ts = 'soon' WHERE seq = (SELECT seq FROM messages ORDER BY seq LIMIT 1 OFFSET 4)",
    ).run();
    db.close();
    const { log } = capturingLogger();
    const again = Outbox.open({ dir, log });
    assert.deepEqual(drain(again), [1, 2, 3, 4, 6, 7, 8, 9, 10]);
    assert.equal(again.status().dropped, 1, "counted");
    again.close();
    const check = new Database(path.join(dir, "outbox.sqlite"), { readonly: true });
    assert.equal(
      (check.prepare("SELECT count(*) AS n FROM quarantine WHERE ts = 'soon'").get() as { n: number }).n,
      1,
      "kept in the quarantine table",
    );
    check.close();
  });

  test("one bad page in a 3000-message backlog: the rest is salvaged, and the log says how many were lost", (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const dir = tempDir();
    const ob = Outbox.open({ dir });
    for (let i = 0; i < 3000; i++) ob.enqueue(TOPIC, payloadFor(i, 3), 3);
    ob.close(); // checkpointed into the main file
    const file = path.join(dir, "outbox.sqlite");
    const buf = fs.readFileSync(file);
    const pageSize = buf.readUInt16BE(16);
    // A leaf page of the messages table in the middle of the file: overwrite it whole.
    const pages = buf.length / pageSize;
    const victim = Math.floor(pages / 2);
    buf.fill(0x5a, victim * pageSize, (victim + 1) * pageSize);
    fs.writeFileSync(file, buf);
    const { log, lines } = capturingLogger();
    const again = Outbox.open({ dir, log });
    const got = drain(again);
    const error = lines.find((l) => l.level === "error" && l.msg.includes("moved it aside"));
    assert.ok(error);
    const m = /(\d+) messages recovered from it, (\d+) lost in unreadable pages/.exec(error.msg);
    assert.ok(m, error.msg);
    const [salvaged, lost] = [Number(m[1]), Number(m[2])];
    console.log(`# one bad page of ${pages}: ${salvaged} salvaged, ${lost} lost`);
    assert.equal(got.length, salvaged);
    assert.equal(salvaged + lost, 3000, "every message is either salvaged or counted as lost");
    assert.ok(lost > 0 && lost < 100, `one page's worth lost (${lost})`);
    assert.deepEqual(
      got,
      [...got].sort((a, b) => a - b),
      "in order",
    );
    again.close();
  });
});
