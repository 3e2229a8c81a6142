// The outbox's disk side: which messages are copied to SQLite and when, which leave memory (spill), which are
// read back (paging), what the overflow policy drops, and the counts of rows that live only on disk. The
// Outbox (outbox.ts) keeps the queue API and the in-flight window; it shares its MemoryQueue with this file,
// which moves entries in and out of it. Order is strictly by seq, across memory, disk, releases and restarts.
import type Database from "better-sqlite3";
import type { Logger } from "../util/logger.ts";
import { describeError } from "./diskErrors.ts";
import { DiskLink } from "./diskLink.ts";
import { DropCounter } from "./dropCounter.ts";
import type { Entry, MemoryQueue } from "./memoryQueue.ts";
import { ROW_OVERHEAD_BYTES, toRanges } from "./sqliteStore.ts";
import { chooseEvictions, makeRoom, type SpillState } from "./spill.ts";

export interface DiskTierOptions {
  file: string;
  /** The outbox's memory queue, shared: this tier removes spilled entries and merges paged-back ones. */
  mem: MemoryQueue;
  /** How many memory entries are in flight (handed out, not yet acked or released). */
  inFlight: () => number;
  flushMs: number;
  maxDiskBytes: number;
  memoryMax: number;
  log: Logger;
  now: () => number;
  onDbOpen: ((db: Database.Database) => void) | undefined;
}

/** Rows read back from disk per page. */
const PAGE_ROWS = 256;

export class DiskTier {
  readonly #mem: MemoryQueue;
  readonly #inFlight: () => number;
  readonly #maxDiskBytes: number;
  readonly #memoryMax: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #link: DiskLink;
  readonly #drops: DropCounter;
  #nextSeq = 1;
  /** Persisted rows that must be deleted in the next batch (acked or dropped). */
  #pendingDeletes = new Set<number>();
  /** Bytes those acked rows free when the batch deletes them. */
  #pendingDeleteBytes = 0;
  /** Persisted rows that are not in memory, and their points. Every such row has seq > #scanFrom. */
  #diskOnly = 0;
  #diskOnlyPoints = 0;
  #scanFrom = 0;
  /** Flush ticks so far; an entry is persisted by the first tick after the one that followed its enqueue. */
  #ticks = 0;

  constructor(o: DiskTierOptions) {
    this.#mem = o.mem;
    this.#inFlight = o.inFlight;
    this.#maxDiskBytes = o.maxDiskBytes;
    this.#memoryMax = o.memoryMax;
    this.#log = o.log;
    this.#now = o.now;
    this.#link = new DiskLink({
      file: o.file,
      log: o.log,
      now: o.now,
      retryMs: Math.max(5 * o.flushMs, 1000),
      onDbOpen: o.onDbOpen,
    });
    this.#drops = new DropCounter(o.log, o.now);
  }

  /** Rows that are only on disk, and their points. */
  get diskOnly(): number {
    return this.#diskOnly;
  }
  get diskOnlyPoints(): number {
    return this.#diskOnlyPoints;
  }
  /** Memory entries up to this seq are safely the oldest pending: disk-only rows all have seq > #scanFrom. */
  get memoryBound(): number {
    return this.#diskOnly > 0 ? this.#scanFrom : Number.POSITIVE_INFINITY;
  }
  get ticks(): number {
    return this.#ticks;
  }
  get dropped(): number {
    return this.#drops.total;
  }
  get fileBytes(): number {
    return this.#link.fileBytes;
  }
  get full(): boolean {
    return this.#link.full;
  }

  open(): void {
    this.#openStore();
  }

  /** The next seq; they are reserved on disk in blocks so seq stays monotonic across restarts. */
  allocateSeq(): number {
    const seq = this.#nextSeq++;
    if (this.#link.needsReservation(seq)) {
      const err = this.#link.reserve(seq);
      if (err !== undefined) this.#onDiskError(err, "seq reservation");
    }
    return seq;
  }

  /** After an enqueue: keeps memory bounded without waiting for the next tick. */
  relieveMemory(): void {
    const pendingInMemory = this.#mem.size - this.#inFlight();
    if (pendingInMemory > this.#memoryMax) {
      // A synchronous burst (replay, test, bench) must not grow RAM until the next tick: spill in one batch
      // once memory holds twice its bound. With the disk unusable, the bound is enforced by dropping oldest.
      if (!this.#diskUsable(false)) this.#enforceMemoryCap();
      else if (pendingInMemory >= 2 * this.#memoryMax) this.#persist("tick");
    }
  }

  tick(): void {
    this.#persist("tick");
    this.#ticks++;
    this.#drops.maybeLog();
  }

  /** Everything not yet on disk (flush, SIGTERM). */
  persistAll(): void {
    this.#persist("all");
  }

  /** An acked entry left memory: its row, if it has one, goes in the next batch's deletes. */
  forget(e: Entry): void {
    // Never persisted: forgetting it costs no disk I/O at all.
    if (e.persisted) {
      this.#pendingDeletes.add(e.seq);
      this.#pendingDeleteBytes += e.bytes + ROW_OVERHEAD_BYTES;
    }
  }

  /** Reads the next page of disk-only rows back into memory; false when there is nothing to read it from. */
  loadPage(): boolean {
    const store = this.#link.store;
    if (!store) return false;
    let page;
    try {
      page = store.page(this.#scanFrom, PAGE_ROWS);
    } catch (err) {
      this.#onDiskError(err, "read");
      return false;
    }
    const rows = page.rows;
    if (page.quarantined.length > 0) {
      // Issue 12: a row whose values do not fit crashed every start; it is set aside and counted instead.
      this.#diskOnly -= page.quarantined.length;
      this.#drops.add(
        page.quarantined.length,
        "rows in the outbox file with values that do not fit (moved to its quarantine table)",
      );
    }
    const loaded: Entry[] = [];
    for (const r of rows) {
      if (this.#pendingDeletes.has(r.seq) || this.#mem.has(r.seq)) continue;
      const bytes = Buffer.byteLength(r.topic) + Buffer.byteLength(r.payload);
      loaded.push({ ...r, bytes, persisted: true, inFlight: false, tick: 0 });
      this.#diskOnly--;
      this.#diskOnlyPoints -= r.points;
    }
    if (page.lastSeq !== undefined) this.#scanFrom = page.lastSeq;
    if (rows.length + page.quarantined.length < PAGE_ROWS && this.#diskOnly !== 0) {
      this.#log.warn(`outbox disk count was off by ${this.#diskOnly}; resynchronised`);
      this.#diskOnly = 0;
      this.#diskOnlyPoints = 0;
    }
    this.#mem.mergeSorted(loaded);
    return true;
  }

  /** Enqueue time of the oldest pending message, in memory or only on disk. */
  oldestTs(): number | null {
    let oldest = this.#mem.first()?.ts ?? null;
    const store = this.#link.store;
    if (this.#diskOnly > 0 && store) {
      try {
        const row = store
          .firstRows(this.#scanFrom, 16)
          .find((r) => !this.#pendingDeletes.has(r.seq) && typeof r.ts === "number");
        if (row && (oldest === null || row.ts < oldest)) oldest = row.ts;
      } catch {
        /* the status must not fail because a read did; the next write reports the disk error */
      }
    }
    return oldest;
  }

  close(): void {
    this.#link.close();
  }

  /** "tick": what is old enough or must leave memory; "all": everything not yet on disk (flush, SIGTERM). */
  #persist(mode: "tick" | "all"): void {
    if (!this.#diskUsable(mode === "all")) {
      this.#enforceMemoryCap();
      return;
    }
    const store = this.#link.store;
    if (!store) return;
    const state = this.#spillState();
    const toEvict = chooseEvictions(state, this.#mem.size - this.#inFlight() - this.#memoryMax);
    // Age is counted in ticks of the (monotonic) interval timer, not wall-clock ts: a Pi without an RTC can see
    // its clock jump back at boot, and messages must not then stay unpersisted until it catches up.
    const seenTick = mode === "all" ? Number.POSITIVE_INFINITY : this.#ticks;
    let inserts: Entry[] = [];
    for (const e of this.#mem) if (!e.persisted && (e.tick < seenTick || toEvict.has(e))) inserts.push(e);
    if (inserts.length > 0) {
      const batchBytes = inserts.reduce((n, e) => n + e.bytes + ROW_OVERHEAD_BYTES, 0);
      const excessBytes = this.#link.liveBytes - this.#pendingDeleteBytes + batchBytes - this.#maxDiskBytes;
      const dropped = makeRoom(state, store, excessBytes, inserts);
      this.#applyDrops(dropped.fromMemory, dropped.diskOnly, dropped.diskOnlyPoints);
      for (const e of dropped.fromMemory) toEvict.delete(e);
      if (dropped.fromMemory.size > 0) inserts = inserts.filter((e) => !dropped.fromMemory.has(e));
    }
    if (inserts.length === 0 && this.#pendingDeletes.size === 0) {
      this.#evict(toEvict);
      return;
    }
    const deleting = this.#pendingDeletes;
    try {
      store.write({ deleteRanges: toRanges(deleting), inserts });
    } catch (err) {
      this.#onDiskError(err, "write");
      return;
    }
    for (const e of inserts) e.persisted = true;
    this.#pendingDeletes = new Set();
    this.#pendingDeleteBytes = 0;
    this.#link.succeeded();
    this.#evict(toEvict);
  }

  #spillState(): SpillState {
    return { mem: this.#mem, scanFrom: this.#scanFrom, pendingDeletes: this.#pendingDeletes };
  }

  #evict(entries: ReadonlySet<Entry>): void {
    const gone = new Set<Entry>();
    for (const e of entries) {
      if (!e.persisted || e.inFlight) continue;
      gone.add(e);
      this.#diskOnly++;
      this.#diskOnlyPoints += e.points;
      this.#scanFrom = Math.min(this.#scanFrom, e.seq - 1);
    }
    this.#mem.removeAll(gone);
  }

  #applyDrops(fromMemory: ReadonlySet<Entry>, diskOnly: number, diskOnlyPoints: number): void {
    this.#mem.removeAll(fromMemory);
    this.#diskOnly -= diskOnly;
    this.#diskOnlyPoints -= diskOnlyPoints;
    this.#drops.add(fromMemory.size + diskOnly, "disk limit maxDiskBytes reached");
  }

  /** Disk unusable: keep at most memoryMaxMessages pending in RAM, evicting persisted ones first (free), then dropping oldest. */
  #enforceMemoryCap(): void {
    let excess = this.#mem.size - this.#inFlight() - this.#memoryMax;
    if (excess <= 0) return;
    const evict = new Set<Entry>();
    if (this.#link.store) for (const e of chooseEvictions(this.#spillState(), excess)) if (e.persisted) evict.add(e);
    this.#evict(evict);
    excess -= evict.size;
    if (excess <= 0) return;
    const drop = new Set<Entry>();
    for (const e of this.#mem) {
      if (drop.size >= excess) break;
      if (!e.inFlight && !e.persisted) drop.add(e);
    }
    this.#mem.removeAll(drop);
    this.#drops.add(drop.size, "disk unavailable, memory limit memoryMaxMessages reached");
  }

  #diskUsable(force: boolean): boolean {
    return this.#link.usable(force, () => this.#openStore());
  }

  #onDiskError(err: unknown, op: string): void {
    if (this.#link.failed(err, op) === "corrupt") this.#recoverCorrupt(err);
    else this.#enforceMemoryCap();
  }

  /** The file went bad under us: what is only on disk is lost (counted); memory is rewritten to a clean file. */
  #recoverCorrupt(err: unknown): void {
    const lost = this.#diskOnly;
    this.#link.setCorruptAside();
    for (const e of this.#mem) e.persisted = false;
    this.#pendingDeletes = new Set();
    this.#pendingDeleteBytes = 0;
    this.#diskOnly = 0;
    this.#diskOnlyPoints = 0;
    this.#scanFrom = 0;
    this.#drops.add(lost, "outbox file corrupted at runtime");
    this.#log.error(
      `outbox file became corrupt (${describeError(err)}); ${lost} messages only on disk are lost, starting a clean file`,
    );
    this.#openStore();
  }

  #openStore(): void {
    const opened = this.#link.open(this.#nextSeq, this.#mem.first()?.seq);
    if (!opened) {
      // Seqs must still grow across restarts: without a readable file, continue from the wall clock.
      this.#nextSeq = Math.max(this.#nextSeq, this.#now() * 1000);
      return;
    }
    this.#diskOnly = opened.count;
    this.#diskOnlyPoints = opened.points;
    this.#scanFrom = 0;
    this.#nextSeq = opened.nextSeq;
  }
}
