// The telemetry outbox: every message to ThingsBoard waits here until its PUBACK (anchors B1, C3: MQTT.js keeps
// its offline queue in RAM only, so we never rely on it). Messages live in memory while the link keeps up; a
// flush timer writes the ones that stay unacknowledged to SQLite in one transaction per tick, and the oldest
// spill to disk when memory fills. Order is strictly by seq, across memory, disk, releases and restarts.
// This file is the queue API and the in-flight window; what goes to and comes back from disk is diskTier.ts.
import path from "node:path";
import type Database from "better-sqlite3";
import type { OutboxStatus } from "../events.ts";
import { silentLogger, type Logger } from "../util/logger.ts";
import { DiskTier } from "./diskTier.ts";
import { MemoryQueue, type Entry } from "./memoryQueue.ts";
import { StatusNotifier } from "./statusNotifier.ts";

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

export class Outbox {
  readonly file: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #mem = new MemoryQueue();
  readonly #notifier: StatusNotifier;
  readonly #timer: NodeJS.Timeout;
  readonly #disk: DiskTier;
  #inFlight = 0;
  #closed = false;

  private constructor(opts: OutboxOptions) {
    this.file = path.join(opts.dir, "outbox.sqlite");
    const flushMs = positive(opts.diskFlushMs ?? 1000, "diskFlushMs");
    const maxDiskBytes = positive(opts.maxDiskBytes ?? 256 * 1024 * 1024, "maxDiskBytes");
    const memoryMax = positive(opts.memoryMaxMessages ?? 2000, "memoryMaxMessages");
    this.#log = opts.log ?? silentLogger();
    this.#now = opts.now ?? Date.now;
    this.#disk = new DiskTier({
      file: this.file,
      mem: this.#mem,
      inFlight: () => this.#inFlight,
      flushMs,
      maxDiskBytes,
      memoryMax,
      log: this.#log,
      now: this.#now,
      onDbOpen: opts.onDbOpen,
    });
    this.#notifier = new StatusNotifier(this.#log);
    // Ticks every diskFlushMs/2 and persists what was already there one tick ago: a message is on disk before it
    // is diskFlushMs old (the power-loss promise), and one acked within diskFlushMs/2 never touches the disk.
    this.#timer = setInterval(() => this.#tick(), Math.max(1, Math.floor(flushMs / 2)));
    this.#timer.unref();
  }

  static open(opts: OutboxOptions): Outbox {
    if (typeof opts?.dir !== "string" || opts.dir === "")
      throw new TypeError("Outbox.open: dir must be a non-empty string");
    const box = new Outbox(opts);
    box.#disk.open();
    return box;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get pending(): number {
    return this.#mem.size - this.#inFlight + this.#disk.diskOnly;
  }

  enqueue(topic: string, payload: string, points: number): number {
    if (this.#closed) throw new Error("Outbox is closed");
    if (typeof topic !== "string" || topic === "")
      throw new TypeError("Outbox.enqueue: topic must be a non-empty string");
    if (typeof payload !== "string") throw new TypeError("Outbox.enqueue: payload must be a string");
    if (!Number.isInteger(points) || points < 0)
      throw new TypeError("Outbox.enqueue: points must be a non-negative integer");
    const seq = this.#disk.allocateSeq();
    const bytes = Buffer.byteLength(topic) + Buffer.byteLength(payload);
    const entry: Entry = {
      seq,
      topic,
      payload,
      points,
      ts: this.#now(),
      bytes,
      persisted: false,
      inFlight: false,
      tick: this.#disk.ticks,
    };
    this.#mem.append(entry);
    this.#disk.relieveMemory();
    return seq;
  }

  take(maxMessages: number, maxBytes = Number.POSITIVE_INFINITY): OutboxMessage[] {
    if (!Number.isInteger(maxMessages) || maxMessages < 1)
      throw new TypeError("Outbox.take: maxMessages must be a positive integer");
    if (!(maxBytes > 0)) throw new TypeError("Outbox.take: maxBytes must be positive");
    const out: OutboxMessage[] = [];
    if (this.#closed) return out;
    let bytes = 0;
    for (;;) {
      const bound = this.#disk.memoryBound;
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
      if (this.#disk.diskOnly === 0 || !this.#disk.loadPage()) return out;
    }
  }

  /**
   * The newest pending messages (handed out in seq order), for the sender to keep live readings
   * flowing while a large backlog drains from the front. The newest are always in memory: the
   * oldest are the ones that spill to disk. Stops at `minSeq` (exclusive) so it never overlaps
   * what the front is about to take.
   */
  takeNewest(maxMessages: number, maxBytes = Number.POSITIVE_INFINITY, minSeq = 0): OutboxMessage[] {
    if (!Number.isInteger(maxMessages) || maxMessages < 1)
      throw new TypeError("Outbox.takeNewest: maxMessages must be a positive integer");
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
    this.#disk.forget(e);
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
    let points = this.#disk.diskOnlyPoints;
    let onDisk = this.#disk.diskOnly;
    for (const e of this.#mem) {
      points += e.points;
      if (e.persisted) onDisk++;
    }
    return {
      queued: this.#mem.size + this.#disk.diskOnly,
      onDisk,
      points,
      oldestTs: this.#disk.oldestTs(),
      dropped: this.#disk.dropped,
      diskBytes: this.#disk.fileBytes,
      diskFull: this.#disk.full,
    };
  }

  onStatus(cb: (s: OutboxStatus) => void): () => void {
    return this.#notifier.add(cb);
  }

  flush(): void {
    if (this.#closed) return;
    this.#disk.persistAll();
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
    this.#disk.tick();
    this.#emitStatus();
  }

  #emitStatus(): void {
    if (this.#notifier.wanted) this.#notifier.offer(this.status());
  }
}

function positive(v: number, name: string): number {
  if (!(typeof v === "number" && Number.isFinite(v) && v > 0))
    throw new TypeError(`Outbox.open: ${name} must be a positive number`);
  return v;
}
