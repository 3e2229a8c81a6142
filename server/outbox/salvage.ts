// Reading what can still be read out of an outbox file SQLite refused (quick_check failed, a
// foreign table layout), so one bad page does not set the whole backlog aside (issue 12). The
// file was already moved aside; its rows are read in seq order, page by page, and an unreadable
// stretch of the B-tree is stepped over by probing for the next readable seq. Rows whose values
// do not fit (a NULL or integer payload, a text ts...) are not taken: they stay in the aside
// file, counted. seqs are handed out one after another, so a skipped stretch from seq a to b lost
// at most b - a - 1 rows: that is the count reported (an upper bound where restarts left gaps).
import Database from "better-sqlite3";
import type { StoredRow } from "./sqliteStore.ts";

export interface SalvageResult {
  /** Rows read, valid, and handed to `keep`. */
  salvaged: number;
  /** Rows read but with values that do not fit the outbox's columns. */
  invalid: number;
  /** Rows in unreadable stretches (at most this many); null when nothing could be read at all. */
  lost: number | null;
  /** The largest seq reserved in the old file's meta table, if readable. */
  reservedSeq: number;
}

const PAGE_ROWS = 256;

/** A row from any file, checked value by value: only what the outbox itself would have written. */
export function validRow(r: Record<string, unknown>): r is StoredRow & Record<string, unknown> {
  return (
    Number.isSafeInteger(r.seq) &&
    typeof r.ts === "number" &&
    Number.isFinite(r.ts) &&
    Number.isSafeInteger(r.points) &&
    (r.points as number) >= 0 &&
    typeof r.topic === "string" &&
    r.topic.length > 0 &&
    typeof r.payload === "string"
  );
}

export function salvageOutbox(file: string, keep: (rows: StoredRow[]) => void): SalvageResult {
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch {
    return { salvaged: 0, invalid: 0, lost: null, reservedSeq: 0 };
  }
  try {
    let page: Database.Statement<[number, number], Record<string, unknown>>;
    let probe: Database.Statement<[number], { seq: unknown }>;
    try {
      db.pragma("cache_size = -1024");
      page = db.prepare("SELECT seq, ts, points, topic, payload FROM messages WHERE seq > ? ORDER BY seq LIMIT ?");
      probe = db.prepare("SELECT seq FROM messages WHERE seq > ? ORDER BY seq LIMIT 1");
    } catch {
      return { salvaged: 0, invalid: 0, lost: null, reservedSeq: 0 };
    }
    const one = db.prepare<[number], Record<string, unknown>>(
      "SELECT seq, ts, points, topic, payload FROM messages WHERE seq = ?",
    );
    const result: SalvageResult = { salvaged: 0, invalid: 0, lost: 0, reservedSeq: readReserved(db) };
    const take = (rows: Array<Record<string, unknown>>): void => {
      const good: StoredRow[] = [];
      for (const r of rows) {
        if (validRow(r)) good.push({ seq: r.seq, ts: r.ts, points: r.points, topic: r.topic, payload: r.payload });
        else result.invalid++;
      }
      if (good.length > 0) keep(good);
      result.salvaged += good.length;
    };
    let after = Number.MIN_SAFE_INTEGER;
    let readAny = false;
    for (;;) {
      let rows: Array<Record<string, unknown>> | null = null;
      try {
        rows = page.all(after, PAGE_ROWS);
      } catch {
        /* a page of rows crosses a bad spot: read up to it row by row below */
      }
      if (rows) {
        readAny = true;
        if (rows.length === 0) break;
        take(rows);
        const last = rows[rows.length - 1]?.seq;
        if (typeof last !== "number" || !Number.isSafeInteger(last) || last <= after) break;
        after = last;
        continue;
      }
      const stepped = rowByRow(probe, one, after, take);
      if (stepped.done) break;
      if (stepped.after !== after) {
        readAny = true;
        after = stepped.after;
        if (!stepped.blocked) continue;
      }
      // The next row cannot be read: step over the bad stretch to the next one that can.
      const next = nextReadable(probe, after);
      if (next === null) {
        if (!readAny) result.lost = null;
        break;
      }
      result.lost = (result.lost ?? 0) + (after === Number.MIN_SAFE_INTEGER ? 0 : Math.max(0, next - after - 1));
      after = next - 1;
    }
    return result;
  } finally {
    db.close();
  }
}

function readReserved(db: Database.Database): number {
  try {
    const r = db.prepare("SELECT value FROM meta WHERE key = 'reservedSeq'").get() as { value: unknown } | undefined;
    return typeof r?.value === "number" && Number.isSafeInteger(r.value) ? r.value : 0;
  } catch {
    return 0;
  }
}

/** Reads single rows after `after` until PAGE_ROWS are read (back to pages), the end (done), or a
 *  row that cannot be read (blocked). */
function rowByRow(
  probe: Database.Statement<[number], { seq: unknown }>,
  one: Database.Statement<[number], Record<string, unknown>>,
  after: number,
  take: (rows: Array<Record<string, unknown>>) => void,
): { after: number; done: boolean; blocked: boolean } {
  for (let n = 0; n < PAGE_ROWS; n++) {
    let next: unknown;
    let row: Record<string, unknown> | undefined;
    try {
      next = probe.get(after)?.seq;
      if (next === undefined) return { after, done: true, blocked: false };
      if (typeof next !== "number") return { after, done: true, blocked: false };
      row = one.get(next);
    } catch {
      return { after, done: false, blocked: true };
    }
    if (row) take([row]);
    after = next;
  }
  return { after, done: false, blocked: false };
}

/** The smallest readable seq after an unreadable one, found by doubling steps then bisecting; null if none. */
function nextReadable(probe: Database.Statement<[number], { seq: unknown }>, after: number): number | null {
  const tryAt = (x: number): number | "error" | null => {
    try {
      const r = probe.get(x);
      return r && typeof r.seq === "number" ? r.seq : null;
    } catch {
      return "error";
    }
  };
  const start = after === Number.MIN_SAFE_INTEGER ? 0 : after;
  let lo = 0; // largest offset known to fail
  let hi = -1; // smallest offset known to read
  let found: number | null = null;
  for (let step = 1; start + step < Number.MAX_SAFE_INTEGER; step *= 2) {
    const r = tryAt(start + step);
    if (r === "error") lo = step;
    else {
      hi = step;
      found = r;
      break;
    }
  }
  if (hi < 0) return null;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const r = tryAt(start + mid);
    if (r === "error") lo = mid;
    else {
      hi = mid;
      found = r;
    }
  }
  return found;
}
