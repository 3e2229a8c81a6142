// The telemetry outbox: every message to ThingsBoard waits here until its PUBACK (anchors B1, C3: MQTT.js keeps
// its offline queue in RAM only, so we never rely on it). Messages live in memory while the link keeps up; a
// flush timer writes the ones that stay unacknowledged to SQLite in one transaction per tick, and the oldest
// spill to disk when memory fills. Order is strictly by seq, across memory, disk, releases and restarts.
import path from "node:path";
import type Database from "better-sqlite3";
import type { OutboxStatus } from "../events.ts";
import { silentLogger, type Logger } from "../util/logger.ts";
import { describeError } from "./diskErrors.ts";
import { DiskLink } from "./diskLink.ts";
import { DropCounter } from "./dropCounter.ts";
import { MemoryQueue, type Entry } from "./memoryQueue.ts";
import { ROW_OVERHEAD_BYTES, toRanges } from "./sqliteStore.ts";
import { StatusNotifier } from "./statusNotifier.ts";
import { chooseEvictions, makeRoom, type SpillState } from "./spill.ts";

export interface OutboxMessage {
  seq: number;
  topic: string;
  payload: string;
  points: number;
  /** Enqueue time, ms. */
  ts: number;
}

export interface OutboxOptions {
  dir: string;
  diskFlushMs?: number;
  maxDiskBytes?: number;
  memoryMaxMessages?: number;
  log?: Logger;
  now?: () => number;
  /** Called with the SQLite connection after every (re)open: tests use it to set PRAGMA max_page_count. */
  onDbOpen?: (db: Database.Database) => void;
}

/** Rows read back from disk per page. */
const PAGE_ROWS = 256;

export class Outbox {
  readonly file: string;
  readonly #flushMs: number;
  readonly #maxDiskBytes: number;
  readonly #memoryMax: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #mem = new MemoryQueue();
  readonly #drops: DropCounter;
  readonly #notifier: StatusNotifier;
  readonly #timer: NodeJS.Timeout;
  readonly #disk: DiskLink;
  #inFlight = 0;
  #nextSeq = 1;
  /** Persisted rows that must be deleted in the next batch (acked or dropped). */
  #pendingDeletes = new Set<number>();
  /** Bytes those acked rows free when the batch deletes them. */
  #pendingDeleteBytes = 0;
  /** Persisted rows that are not in memory, and their points. Every such row has seq > #scanFrom. */
  #diskOnly = 0;
  #diskOnlyPoints = 0;
  #scanFrom = 0;
  #closed = false;
  /** Flush ticks so far; an entry is persisted by the first tick after the one that followed its enqueue. */
  #ticks = 0;

  private constructor(opts: OutboxOptions) {
    this.file = path.join(opts.dir, "outbox.sqlite");
    this.#flushMs = positive(opts.diskFlushMs ?? 1000, "diskFlushMs");
    this.#maxDiskBytes = positive(opts.maxDiskBytes ?? 256 * 1024 * 1024, "maxDiskBytes");
    this.#memoryMax = positive(opts.memoryMaxMessages ?? 2000, "memoryMaxMessages");
    this.#log = opts.log ?? silentLogger();
    this.#now = opts.now ?? Date.now;
    this.#disk = new DiskLink({
      file: this.file,
      log: this.#log,
      now: this.#now,
      retryMs: Math.max(5 * this.#flushMs, 1000),
      onDbOpen: opts.onDbOpen,
    });
    this.#drops = new DropCounter(this.#log, this.#now);
    this.#notifier = new StatusNotifier(this.#log);
    // Ticks every diskFlushMs/2 and persists what was already there one tick ago: a message is on disk before it
    // is diskFlushMs old (the power-loss promise), and one acked within diskFlushMs/2 never touches the disk.
    this.#timer = setInterval(() => this.#tick(), Math.max(1, Math.floor(this.#flushMs / 2)));
    this.#timer.unref();
  }

  static open(opts: OutboxOptions): Outbox {
    if (typeof opts?.dir !== "string" || opts.dir === "") throw new TypeError("Outbox.open: dir must be a non-empty string");
    const box = new Outbox(opts);
    box.#openStore();
    return box;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get pending(): number {
    return this.#mem.size - this.#inFlight + this.#diskOnly;
  }

  enqueue(topic: string, payload: string, points: number): number {
    if (this.#closed) throw new Error("Outbox is closed");
    if (typeof topic !== "string" || topic === "") throw new TypeError("Outbox.enqueue: topic must be a non-empty string");
    if (typeof payload !== "string") throw new TypeError("Outbox.enqueue: payload must be a string");
    if (!Number.isInteger(points) || points < 0) throw new TypeError("Outbox.enqueue: points must be a non-negative integer");
    const seq = this.#nextSeq++;
    if (this.#disk.needsReservation(seq)) {
      const err = this.#disk.reserve(seq);
      if (err !== undefined) this.#onDiskError(err, "seq reservation");
    }
    const bytes = Buffer.byteLength(topic) + Buffer.byteLength(payload);
    const entry: Entry = { seq, topic, payload, points, ts: this.#now(), bytes, persisted: false, inFlight: false, tick: this.#ticks };
    this.#mem.append(entry);
    const pendingInMemory = this.#mem.size - this.#inFlight;
    if (pendingInMemory > this.#memoryMax) {
      // A synchronous burst (replay, test, bench) must not grow RAM until the next tick: spill in one batch
      // once memory holds twice its bound. With the disk unusable, the bound is enforced by dropping oldest.
      if (!this.#diskUsable(false)) this.#enforceMemoryCap();
      else if (pendingInMemory >= 2 * this.#memoryMax) this.#persist("tick");
    }
    return seq;
  }

  take(maxMessages: number, maxBytes = Number.POSITIVE_INFINITY): OutboxMessage[] {
    if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new TypeError("Outbox.take: maxMessages must be a positive integer");
    if (!(maxBytes > 0)) throw new TypeError("Outbox.take: maxBytes must be positive");
    const out: OutboxMessage[] = [];
    if (this.#closed) return out;
    let bytes = 0;
    for (;;) {
      // Disk-only rows all have seq > #scanFrom, so memory entries up to it are safely the oldest.
      const bound = this.#diskOnly > 0 ? this.#scanFrom : Number.POSITIVE_INFINITY;
      for (const e of this.#mem) {
        if (e.seq > bound) break;
        if (e.inFlight) continue;
        // Always hand out at least one message, or one larger than maxBytes would block the queue forever.
        if (out.length >= maxMessages || (out.length > 0 && bytes + e.bytes > maxBytes)) return out;
        e.inFlight = true;
        this.#inFlight++;
        bytes += e.bytes;
        out.push({ seq: e.seq, topic: e.topic, payload: e.payload, points: e.points, ts: e.ts });
      }
      if (this.#diskOnly === 0 || !this.#loadPage()) return out;
    }
  }

  /**
   * The newest pending messages (handed out in seq order), for the sender to keep live readings
   * flowing while a large backlog drains from the front. The newest are always in memory: the
   * oldest are the ones that spill to disk. Stops at `minSeq` (exclusive) so it never overlaps
   * what the front is about to take.
   */
  takeNewest(maxMessages: number, maxBytes = Number.POSITIVE_INFINITY, minSeq = 0): OutboxMessage[] {
    if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new TypeError("Outbox.takeNewest: maxMessages must be a positive integer");
    const picked: OutboxMessage[] = [];
    if (this.#closed) return picked;
    let bytes = 0;
    for (const e of this.#mem.reversed()) {
      if (e.seq <= minSeq) break;
      if (e.inFlight) continue;
      if (picked.length >= maxMessages || (picked.length > 0 && bytes + e.bytes > maxBytes)) break;
      e.inFlight = true;
      this.#inFlight++;
      bytes += e.bytes;
      picked.push({ seq: e.seq, topic: e.topic, payload: e.payload, points: e.points, ts: e.ts });
    }
    return picked.reverse();
  }

  ack(seq: number): void {
    if (!Number.isInteger(seq)) throw new TypeError("Outbox.ack: seq must be an integer");
    const i = this.#mem.indexOf(seq);
    if (i < 0) {
      // A late PUBACK after release and re-take, or after close: nothing to forget.
      this.#log.debug(() => `ack for unknown seq ${seq} ignored`);
      return;
    }
    const e = this.#mem.removeAt(i) as Entry;
    if (e.inFlight) this.#inFlight--;
    // Never persisted: forgetting it costs no disk I/O at all.
    if (e.persisted) {
      this.#pendingDeletes.add(seq);
      this.#pendingDeleteBytes += e.bytes + ROW_OVERHEAD_BYTES;
    }
  }

  release(seqs?: number[]): void {
    if (seqs === undefined) {
      for (const e of this.#mem) e.inFlight = false;
      this.#inFlight = 0;
      return;
    }
    for (const seq of seqs) {
      const e = Number.isInteger(seq) ? this.#mem.get(seq) : undefined;
      if (e?.inFlight) {
        e.inFlight = false;
        this.#inFlight--;
      }
    }
  }

  status(): OutboxStatus {
    let points = this.#diskOnlyPoints;
    let onDisk = this.#diskOnly;
    for (const e of this.#mem) {
      points += e.points;
      if (e.persisted) onDisk++;
    }
    return {
      queued: this.#mem.size + this.#diskOnly,
      onDisk,
      points,
      oldestTs: this.#oldestTs(),
      dropped: this.#drops.total,
      diskBytes: this.#disk.fileBytes,
      diskFull: this.#disk.full,
    };
  }

  onStatus(cb: (s: OutboxStatus) => void): () => void {
    return this.#notifier.add(cb);
  }

  flush(): void {
    if (this.#closed) return;
    this.#persist("all");
    this.#emitStatus();
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    clearInterval(this.#timer);
    this.#disk.close();
    this.#notifier.clear();
  }

  #tick(): void {
    if (this.#closed) return;
    this.#persist("tick");
    this.#ticks++;
    this.#drops.maybeLog();
    this.#emitStatus();
  }

  /** "tick": what is old enough or must leave memory; "all": everything not yet on disk (flush, SIGTERM). */
  #persist(mode: "tick" | "all"): void {
    if (!this.#diskUsable(mode === "all")) {
      this.#enforceMemoryCap();
      return;
    }
    const store = this.#disk.store;
    if (!store) return;
    const state = this.#spillState();
    const toEvict = chooseEvictions(state, this.#mem.size - this.#inFlight - this.#memoryMax);
    // Age is counted in ticks of the (monotonic) interval timer, not wall-clock ts: a Pi without an RTC can see
    // its clock jump back at boot, and messages must not then stay unpersisted until it catches up.
    const seenTick = mode === "all" ? Number.POSITIVE_INFINITY : this.#ticks;
    let inserts: Entry[] = [];
    for (const e of this.#mem) if (!e.persisted && (e.tick < seenTick || toEvict.has(e))) inserts.push(e);
    if (inserts.length > 0) {
      const batchBytes = inserts.reduce((n, e) => n + e.bytes + ROW_OVERHEAD_BYTES, 0);
      const excessBytes = this.#disk.liveBytes - this.#pendingDeleteBytes + batchBytes - this.#maxDiskBytes;
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
    this.#disk.succeeded();
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
    let excess = this.#mem.size - this.#inFlight - this.#memoryMax;
    if (excess <= 0) return;
    const evict = new Set<Entry>();
    if (this.#disk.store) for (const e of chooseEvictions(this.#spillState(), excess)) if (e.persisted) evict.add(e);
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

  #loadPage(): boolean {
    const store = this.#disk.store;
    if (!store) return false;
    let rows;
    try {
      rows = store.page(this.#scanFrom, PAGE_ROWS);
    } catch (err) {
      this.#onDiskError(err, "read");
      return false;
    }
    const loaded: Entry[] = [];
    for (const r of rows) {
      if (this.#pendingDeletes.has(r.seq) || this.#mem.has(r.seq)) continue;
      const bytes = Buffer.byteLength(r.topic) + Buffer.byteLength(r.payload);
      loaded.push({ ...r, bytes, persisted: true, inFlight: false, tick: 0 });
      this.#diskOnly--;
      this.#diskOnlyPoints -= r.points;
    }
    const last = rows[rows.length - 1];
    if (last) this.#scanFrom = last.seq;
    if (rows.length < PAGE_ROWS && this.#diskOnly !== 0) {
      this.#log.warn(`outbox disk count was off by ${this.#diskOnly}; resynchronised`);
      this.#diskOnly = 0;
      this.#diskOnlyPoints = 0;
    }
    this.#mem.mergeSorted(loaded);
    return true;
  }

  #oldestTs(): number | null {
    let oldest = this.#mem.first()?.ts ?? null;
    const store = this.#disk.store;
    if (this.#diskOnly > 0 && store) {
      try {
        const row = store.firstRows(this.#scanFrom, 16).find((r) => !this.#pendingDeletes.has(r.seq));
        if (row && (oldest === null || row.ts < oldest)) oldest = row.ts;
      } catch {
        /* the status must not fail because a read did; the next write reports the disk error */
      }
    }
    return oldest;
  }

  #emitStatus(): void {
    if (this.#notifier.wanted) this.#notifier.offer(this.status());
  }

  #diskUsable(force: boolean): boolean {
    return this.#disk.usable(force, () => this.#openStore());
  }

  #onDiskError(err: unknown, op: string): void {
    if (this.#disk.failed(err, op) === "corrupt") this.#recoverCorrupt(err);
    else this.#enforceMemoryCap();
  }

  /** The file went bad under us: what is only on disk is lost (counted); memory is rewritten to a clean file. */
  #recoverCorrupt(err: unknown): void {
    const lost = this.#diskOnly;
    this.#disk.setCorruptAside();
    for (const e of this.#mem) e.persisted = false;
    this.#pendingDeletes = new Set();
    this.#pendingDeleteBytes = 0;
    this.#diskOnly = 0;
    this.#diskOnlyPoints = 0;
    this.#scanFrom = 0;
    this.#drops.add(lost, "outbox file corrupted at runtime");
    this.#log.error(`outbox file became corrupt (${describeError(err)}); ${lost} messages only on disk are lost, starting a clean file`);
    this.#openStore();
  }

  #openStore(): void {
    const opened = this.#disk.open(this.#nextSeq, this.#mem.first()?.seq);
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

function positive(v: number, name: string): number {
  if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) throw new TypeError(`Outbox.open: ${name} must be a positive number`);
  return v;
}
