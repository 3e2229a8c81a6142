// history.db: downsampled numeric readings per device and key, one table per tier (tiers.ts).
// Its own file, not the outbox's: the outbox commits with synchronous=FULL on every tick, the
// history can lose its last flush on a power cut (seconds of a chart) and must never slow the outbox.
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { moveDbAside } from "../outbox/sqliteStore.ts";
import type { Logger } from "../util/logger.ts";
import { TIERS, type Tier } from "./tiers.ts";

/** One bucket's accumulated change since the last write: sum and count add up, min/max merge. */
export interface BucketDelta {
  series: number;
  tier: Tier["name"];
  ts: number;
  sum: number;
  n: number;
  min: number;
  max: number;
}

export interface HistoryPoint {
  ts: number;
  avg: number;
  min: number;
  max: number;
}

type Db = Database.Database;

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, device TEXT NOT NULL, key TEXT NOT NULL, UNIQUE (device, key))",
  ...TIERS.map(
    (t) =>
      `CREATE TABLE IF NOT EXISTS ${t.name} (series INTEGER NOT NULL, ts INTEGER NOT NULL, sum REAL NOT NULL, n INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL, PRIMARY KEY (series, ts)) WITHOUT ROWID`,
  ),
].join(";\n");

export class HistoryDb {
  readonly file: string;
  readonly #db: Db;
  readonly #upsert: Record<Tier["name"], Database.Statement<[number, number, number, number, number, number]>>;
  readonly #range: Record<Tier["name"], Database.Statement<[number, number], HistoryPoint>>;
  readonly #write: (rows: BucketDelta[]) => void;

  private constructor(file: string, db: Db) {
    this.file = file;
    this.#db = db;
    const upsert = {} as Record<Tier["name"], Database.Statement<[number, number, number, number, number, number]>>;
    const range = {} as Record<Tier["name"], Database.Statement<[number, number], HistoryPoint>>;
    for (const t of TIERS) {
      upsert[t.name] = db.prepare(
        `INSERT INTO ${t.name} (series, ts, sum, n, min, max) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (series, ts) DO UPDATE SET sum = sum + excluded.sum, n = n + excluded.n, min = min(min, excluded.min), max = max(max, excluded.max)`,
      );
      range[t.name] = db.prepare(
        `SELECT ts, sum / n AS avg, min, max FROM ${t.name} WHERE series = ? AND ts >= ? ORDER BY ts`,
      );
    }
    this.#upsert = upsert;
    this.#range = range;
    // One transaction per flush: one WAL append for every series and tier.
    this.#write = db.transaction((rows: BucketDelta[]) => {
      for (const r of rows) this.#upsert[r.tier].run(r.series, r.ts, r.sum, r.n, r.min, r.max);
    });
  }

  /** Opens or creates the file; an unreadable one is moved aside (history is not worth refusing to start over). */
  static open(file: string, log: Logger): HistoryDb {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      return new HistoryDb(file, openChecked(file));
    } catch (err) {
      const aside = `${file}.corrupt-${Date.now()}`;
      moveDbAside(file, aside);
      log.error(
        `history file ${file} is unreadable (${(err as Error).message}); moved it aside to ${aside} and started an empty history`,
      );
      return new HistoryDb(file, openChecked(file));
    }
  }

  /** Every known series, to resume ids after a restart. */
  series(): Array<{ id: number; device: string; key: string }> {
    return this.#db.prepare("SELECT id, device, key FROM series").all() as Array<{
      id: number;
      device: string;
      key: string;
    }>;
  }

  addSeries(device: string, key: string): number {
    const r = this.#db
      .prepare(
        "INSERT INTO series (device, key) VALUES (?, ?) ON CONFLICT (device, key) DO UPDATE SET key = excluded.key RETURNING id",
      )
      .get(device, key) as { id: number };
    return r.id;
  }

  write(rows: BucketDelta[]): void {
    if (rows.length) this.#write(rows);
  }

  range(tier: Tier["name"], series: number, fromTs: number): HistoryPoint[] {
    return this.#range[tier].all(series, fromTs);
  }

  /** Drops rows older than each tier keeps. */
  prune(now: number): number {
    let removed = 0;
    const run = this.#db.transaction(() => {
      for (const t of TIERS)
        removed += this.#db.prepare(`DELETE FROM ${t.name} WHERE ts < ?`).run(now - t.retentionMs).changes;
    });
    run();
    return removed;
  }

  /** Forgets a device's history (it was removed from the page). */
  deleteDevice(device: string): void {
    const run = this.#db.transaction(() => {
      const ids = this.#db.prepare("SELECT id FROM series WHERE device = ?").all(device) as Array<{ id: number }>;
      for (const { id } of ids)
        for (const t of TIERS) this.#db.prepare(`DELETE FROM ${t.name} WHERE series = ?`).run(id);
      this.#db.prepare("DELETE FROM series WHERE device = ?").run(device);
    });
    run();
  }

  rowCount(): number {
    return TIERS.reduce(
      (n, t) => n + (this.#db.prepare(`SELECT count(*) AS n FROM ${t.name}`).get() as { n: number }).n,
      0,
    );
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function openChecked(file: string): Db {
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    // NORMAL: a power cut may roll back the last flush (seconds of chart), never corrupt the file (sqlite.org/wal.html).
    db.pragma("synchronous = NORMAL");
    db.pragma("journal_size_limit = 1048576");
    db.pragma("cache_size = -512");
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new Error(`quick_check: ${String(check)}`);
    db.exec(SCHEMA);
    for (const t of TIERS) db.prepare(`SELECT series, ts, sum, n, min, max FROM ${t.name} LIMIT 1`).all();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
