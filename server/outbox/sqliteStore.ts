// The outbox's SQLite file: schema, pragmas, prepared statements and corrupt-file recovery.
// Policy (what to write, when to drop) lives in outbox.ts; this file only moves rows.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "../util/logger.ts";
import { classifyDiskError, describeError } from "./diskErrors.ts";
import { salvageOutbox, validRow } from "./salvage.ts";

export interface StoredRow {
  seq: number;
  ts: number;
  points: number;
  topic: string;
  payload: string;
}

export interface RowCost {
  seq: number;
  points: number;
  /** UTF-8 bytes of topic + payload. */
  bytes: number;
}

export interface RowToInsert {
  seq: number;
  ts: number;
  points: number;
  topic: string;
  payload: string;
}

export interface BatchWrite {
  /** Inclusive seq ranges to delete (acknowledged or dropped rows). */
  deleteRanges: Array<[number, number]>;
  inserts: RowToInsert[];
  /** New seq reservation to record, when it moved. */
  reserveSeq?: number;
}

/** Per-row cost on disk beyond topic + payload: rowid varint, record header, cell pointer (SQLite file format §1.6). */
export const ROW_OVERHEAD_BYTES = 16;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  points INTEGER NOT NULL,
  topic TEXT NOT NULL,
  payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

type Db = Database.Database;

export class OutboxDb {
  readonly file: string;
  readonly db: Db;
  readonly #insert: Database.Statement<[number, number, number, string, string]>;
  readonly #deleteRange: Database.Statement<[number, number]>;
  readonly #page: Database.Statement<[number, number], StoredRow>;
  readonly #costs: Database.Statement<[number, number], RowCost>;
  readonly #firstTs: Database.Statement<[number, number], { seq: number; ts: number }>;
  readonly #setMeta: Database.Statement<[string, number]>;
  readonly #write: (batch: BatchWrite) => void;

  private constructor(file: string, db: Db) {
    this.file = file;
    this.db = db;
    this.#insert = db.prepare("INSERT INTO messages (seq, ts, points, topic, payload) VALUES (?, ?, ?, ?, ?)");
    this.#deleteRange = db.prepare("DELETE FROM messages WHERE seq BETWEEN ? AND ?");
    this.#page = db.prepare("SELECT seq, ts, points, topic, payload FROM messages WHERE seq > ? ORDER BY seq LIMIT ?");
    this.#costs = db.prepare(
      "SELECT seq, points, length(CAST(topic AS BLOB)) + length(CAST(payload AS BLOB)) AS bytes FROM messages WHERE seq > ? ORDER BY seq LIMIT ?",
    );
    this.#firstTs = db.prepare("SELECT seq, ts FROM messages WHERE seq > ? ORDER BY seq LIMIT ?");
    this.#setMeta = db.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
    // One transaction per flush tick: with synchronous=FULL that is one WAL fsync per tick, not per message.
    this.#write = db.transaction((batch: BatchWrite) => {
      for (const [lo, hi] of batch.deleteRanges) this.#deleteRange.run(lo, hi);
      for (const r of batch.inserts) this.#insert.run(r.seq, r.ts, r.points, r.topic, r.payload);
      if (batch.reserveSeq !== undefined) this.#setMeta.run("reservedSeq", batch.reserveSeq);
    });
  }

  /**
   * Opens (or creates) the file. A file SQLite cannot read, or whose content fails the quick check, is moved
   * aside as `<file>.corrupt-<ts>` (with its -wal) and a clean one is created. I/O errors (permissions, missing
   * disk) are thrown to the caller, which runs memory-only and retries later.
   */
  static open(file: string, log: Logger, now: () => number): { store: OutboxDb; movedAside: string | null } {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      return { store: new OutboxDb(file, openChecked(file)), movedAside: null };
    } catch (err) {
      if (classifyDiskError(err) === "io" || classifyDiskError(err) === "full") throw err;
      const aside = `${file}.corrupt-${now()}`;
      moveAside(file, aside);
      const store = new OutboxDb(file, openChecked(file));
      // Issue 12: one bad page used to set the whole backlog aside. What still reads goes to the new file.
      const r = salvageOutbox(aside, (rows) => store.write({ deleteRanges: [], inserts: rows }));
      if (r.reservedSeq > 0) store.write({ deleteRanges: [], inserts: [], reserveSeq: r.reservedSeq });
      const saved =
        r.lost === null
          ? "nothing in it could be read"
          : `${r.salvaged} messages recovered from it, ${r.lost} lost in unreadable pages, ${r.invalid} with values that do not fit left in it`;
      log.error(
        `outbox file ${file} is unreadable (${describeError(err)}); moved it aside to ${aside} and started a clean outbox: ${saved}`,
        {
          file,
          aside,
          salvaged: r.salvaged,
          lost: r.lost ?? undefined,
          invalid: r.invalid,
        },
      );
      return { store, movedAside: aside };
    }
  }

  totals(): { count: number; points: number; maxSeq: number; reservedSeq: number } {
    const t = this.db
      .prepare("SELECT count(*) AS n, coalesce(sum(points), 0) AS p, coalesce(max(seq), 0) AS m FROM messages")
      .get() as {
      n: number;
      p: number;
      m: number;
    };
    const r = this.db.prepare("SELECT value FROM meta WHERE key = 'reservedSeq'").get() as
      | { value: number }
      | undefined;
    return { count: t.n, points: t.p, maxSeq: t.m, reservedSeq: r?.value ?? 0 };
  }

  write(batch: BatchWrite): void {
    this.#write(batch);
  }

  /** The next rows after afterSeq, each checked value by value; rows that do not fit (a hand-edited
   *  or foreign file) are moved to the quarantine table and reported by seq. */
  page(afterSeq: number, limit: number): { rows: StoredRow[]; quarantined: number[]; lastSeq: number | undefined } {
    const raw = this.#page.all(afterSeq, limit) as unknown as Array<Record<string, unknown>>;
    const rows: StoredRow[] = [];
    const quarantined: number[] = [];
    for (const r of raw) {
      if (validRow(r)) rows.push(r);
      else quarantined.push(r.seq as number);
    }
    if (quarantined.length > 0) this.#quarantine(quarantined);
    const last = raw[raw.length - 1]?.seq;
    return { rows, quarantined, lastSeq: typeof last === "number" ? last : undefined };
  }

  #quarantine(seqs: number[]): void {
    this.db.exec("CREATE TABLE IF NOT EXISTS quarantine (seq, ts, points, topic, payload, movedAt INTEGER)");
    const move = this.db.prepare(
      "INSERT INTO quarantine SELECT seq, ts, points, topic, payload, ? FROM messages WHERE seq = ?",
    );
    const del = this.db.prepare("DELETE FROM messages WHERE seq = ?");
    this.db.transaction(() => {
      for (const seq of seqs) {
        move.run(Date.now(), seq);
        del.run(seq);
      }
    })();
  }

  costs(afterSeq: number, limit: number): RowCost[] {
    return this.#costs.all(afterSeq, limit);
  }

  firstRows(afterSeq: number, limit: number): Array<{ seq: number; ts: number }> {
    return this.#firstTs.all(afterSeq, limit);
  }

  /** Bytes used by live rows (pages not on the free list). The file itself never shrinks: freed pages are reused. */
  liveBytes(): number {
    const pageSize = this.db.pragma("page_size", { simple: true }) as number;
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /** Size of the database file plus its write-ahead log, as the SD card sees it. */
  fileBytes(): number {
    return sizeOf(this.file) + sizeOf(`${this.file}-wal`);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function openChecked(file: string): Db {
  const db = new Database(file);
  try {
    // WAL: appends and commits do not rewrite the main file. synchronous=FULL: in WAL mode NORMAL skips the
    // fsync at commit, so a power cut can roll back the last commits; FULL makes every committed tick durable,
    // which is the promise "at most the last diskFlushMs is lost" (sqlite.org/pragma.html#pragma_synchronous).
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    // Keep the -wal file from staying at its high-water mark after a large backlog batch.
    db.pragma("journal_size_limit = 4194304");
    // better-sqlite3 builds SQLite with a 16 MB page cache (SQLITE_DEFAULT_CACHE_SIZE=-16000 in its
    // deps/defines.gypi), and quick_check below reads every page, so a large backlog file filled it at
    // each start and the memory stayed. The outbox appends at the end and reads from the front: the
    // hot pages (root, interior pages, the two edges of the rowid B-tree) fit in 1 MiB
    // (sqlite.org/pragma.html#pragma_cache_size; docs/benchmarks.md, footprint).
    db.pragma("cache_size = -1024");
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") {
      const err = new Error(`quick_check: ${String(check)}`) as Error & { code: string };
      err.code = "SQLITE_CORRUPT";
      throw err;
    }
    db.exec(SCHEMA);
    // A valid SQLite file with a foreign table layout fails here, like a corrupt one: not only
    // missing columns, also untyped or nullable ones (issue 12: an untyped `payload` holding
    // integers or NULL crashed every start). Its rows are then salvaged one by one.
    checkSchema(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** PRAGMA table_info of `messages` as SCHEMA creates it: name, declared type, NOT NULL, primary key. */
const EXPECTED_COLUMNS = "seq INTEGER 0 1|ts INTEGER 1 0|points INTEGER 1 0|topic TEXT 1 0|payload TEXT 1 0";

function checkSchema(db: Db): void {
  const cols = db.pragma("table_info(messages)") as Array<{ name: string; type: string; notnull: number; pk: number }>;
  const found = cols.map((c) => `${c.name} ${c.type.toUpperCase()} ${c.notnull} ${c.pk}`).join("|");
  if (found !== EXPECTED_COLUMNS) {
    const err = new Error(`the messages table has a foreign layout (${found || "none"})`) as Error & { code: string };
    err.code = "SQLITE_CORRUPT_SCHEMA";
    throw err;
  }
}

function moveAside(file: string, aside: string): void {
  for (const [suffix, keep] of [
    ["", true],
    ["-wal", true],
    ["-shm", false],
  ] as const) {
    const from = `${file}${suffix}`;
    if (!fs.existsSync(from)) continue;
    if (keep) fs.renameSync(from, `${aside}${suffix}`);
    else fs.rmSync(from, { force: true });
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Sorted inclusive runs of consecutive seqs, so a batch of acks becomes a few range deletes. */
export function toRanges(seqs: Iterable<number>): Array<[number, number]> {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else if (!last || s > last[1]) out.push([s, s]);
  }
  return out;
}

/** Moves a database (and its -wal) aside for later inspection; the -shm index is rebuilt by SQLite, so it is removed. */
export function moveDbAside(file: string, aside: string): void {
  moveAside(file, aside);
}
