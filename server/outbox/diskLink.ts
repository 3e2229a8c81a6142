// The outbox's hold on its SQLite file: opening (and re-opening after a failure), the disk-full/failing state
// with its retry schedule, seq reservations, and the sizes shown on the dashboard. The queue logic is in
// outbox.ts and diskTier.ts; this file decides only whether the disk can be used right now, and logs its troubles once.
import type Database from "better-sqlite3";
import type { Logger } from "../util/logger.ts";
import { classifyDiskError, describeError, type DiskErrorKind } from "./diskErrors.ts";
import { OutboxDb, moveDbAside } from "./sqliteStore.ts";

/** Seqs reserved per write, so seq stays monotonic across restarts without a write per message. */
export const SEQ_BLOCK = 65_536;

export interface OpenedFile {
  /** Rows found in the file, and their points. */
  count: number;
  points: number;
  /** First seq that is safe to hand out. */
  nextSeq: number;
}

export interface DiskLinkOptions {
  file: string;
  log: Logger;
  now: () => number;
  retryMs: number;
  onDbOpen: ((db: Database.Database) => void) | undefined;
}

export class DiskLink {
  store: OutboxDb | null = null;
  /** Writes are failing (full, I/O error, cannot open): messages stay in memory until a retry succeeds. */
  full = false;
  liveBytes = 0;
  fileBytes = 0;
  readonly #o: DiskLinkOptions;
  #retryAt = 0;
  #reservedSeq = 0;

  constructor(o: DiskLinkOptions) {
    this.#o = o;
  }

  /**
   * Opens the file, or returns null and schedules a retry. `firstInMemory` is the oldest seq still in memory
   * when this is a late open: a file whose seqs overlap it is set aside rather than mixed into the order.
   */
  open(nextSeq: number, firstInMemory: number | undefined): OpenedFile | null {
    const { file, log, now } = this.#o;
    try {
      const store = OutboxDb.open(file, log, now).store;
      this.#o.onDbOpen?.(store.db);
      const t = store.totals();
      if (firstInMemory !== undefined && t.count > 0 && t.maxSeq >= firstInMemory) {
        store.close();
        const aside = `${file}.conflict-${now()}`;
        moveDbAside(file, aside);
        log.error(`outbox file opened late overlaps in-memory seqs; moved it aside to ${aside}`);
        return this.open(nextSeq, firstInMemory);
      }
      this.store = store;
      this.full = false;
      const next = Math.max(nextSeq, t.maxSeq + 1, t.reservedSeq + 1);
      this.#reservedSeq = 0;
      this.reserve(next);
      this.refreshSizes();
      if (t.count > 0) log.info(`outbox recovered ${t.count} messages (${t.points} points) from ${file}`);
      return { count: t.count, points: t.points, nextSeq: next };
    } catch (err) {
      this.store = null;
      this.full = true;
      this.#retryAt = now() + this.#o.retryMs;
      log.error(
        `cannot open outbox file ${file} (${describeError(err)}); running memory-only, retrying every ${this.#o.retryMs} ms`,
      );
      return null;
    }
  }

  /** Whether to try the disk now; `force` (flush on shutdown) ignores the retry schedule. */
  usable(force: boolean, reopen: () => void): boolean {
    if (!this.full) return this.store !== null;
    if (!force && this.#o.now() < this.#retryAt) return false;
    if (!this.store) reopen();
    return this.store !== null;
  }

  /** Records a failed operation (logged once per episode) and returns its kind; "corrupt" is the caller's to recover. */
  failed(err: unknown, op: string): DiskErrorKind {
    const kind = classifyDiskError(err);
    if (kind === "corrupt") return kind;
    if (!this.full) {
      this.#o.log.error(
        `outbox disk ${op} failed (${describeError(err)}); keeping messages in memory, retrying every ${this.#o.retryMs} ms`,
        { kind },
      );
    }
    this.full = true;
    this.#retryAt = this.#o.now() + this.#o.retryMs;
    return kind;
  }

  succeeded(): void {
    this.refreshSizes();
    if (!this.full) return;
    this.full = false;
    this.#o.log.info("outbox disk writes work again; spilling resumed");
  }

  needsReservation(seq: number): boolean {
    return seq > this.#reservedSeq;
  }

  /** Records that every seq up to seq + SEQ_BLOCK - 1 may be in use; returns the write error, if any. */
  reserve(seq: number): unknown {
    const reserve = seq + SEQ_BLOCK - 1;
    this.#reservedSeq = reserve;
    if (!this.store || this.full) return undefined;
    try {
      this.store.write({ deleteRanges: [], inserts: [], reserveSeq: reserve });
      return undefined;
    } catch (err) {
      return err ?? new Error("seq reservation failed");
    }
  }

  /** Closes the corrupt file and keeps it as `<file>.corrupt-<ts>` for inspection. */
  setCorruptAside(): void {
    this.store?.close();
    this.store = null;
    try {
      moveDbAside(this.#o.file, `${this.#o.file}.corrupt-${this.#o.now()}`);
    } catch (err) {
      this.#o.log.error(`could not move the corrupt outbox aside: ${describeError(err)}`);
    }
  }

  refreshSizes(): void {
    if (!this.store) return;
    try {
      this.liveBytes = this.store.liveBytes();
      this.fileBytes = this.store.fileBytes();
    } catch {
      /* sizes are informative; a failing disk is reported by the next write */
    }
  }

  close(): void {
    this.store?.close();
    this.store = null;
  }
}
