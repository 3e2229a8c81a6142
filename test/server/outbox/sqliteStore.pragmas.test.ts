// The outbox file's memory settings (docs/benchmarks.md, footprint): better-sqlite3 builds SQLite with a
// 16 MB page cache by default; the outbox keeps 1 MiB, also after reopening a file with a large backlog.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { OutboxDb } from "../../../server/outbox/sqliteStore.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { tempDir } from "../../fakes/tempDir.ts";

const dir = tempDir("outbox-pragmas-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the outbox database runs with a 1 MiB page cache, not better-sqlite3's 16 MB default", () => {
  const file = path.join(dir, "outbox.sqlite");
  const first = OutboxDb.open(file, silentLogger(), () => Date.now());
  assert.equal(first.movedAside, null);
  assert.equal(first.store.db.pragma("cache_size", { simple: true }), -1024);
  // A plain connection shows the build's default, so the setting above is ours and not SQLite's.
  first.store.close();
  const Database = first.store.db.constructor as new (f: string) => {
    pragma(s: string, o: { simple: true }): unknown;
    close(): void;
  };
  const plain = new Database(file);
  assert.equal(plain.pragma("cache_size", { simple: true }), -16000);
  plain.close();
  const again = OutboxDb.open(file, silentLogger(), () => Date.now());
  assert.equal(again.store.db.pragma("cache_size", { simple: true }), -1024);
  again.store.close();
});
