// Keeps recent history on the appliance: every numeric value a device reports (any kind: new
// device kinds need nothing here) is folded into in-memory buckets on the bus event, and the
// buckets' deltas go to history.db in one transaction every flushMs. The telemetry path only pays
// a few Map lookups and additions; the disk write happens on the timer, off that path.
import type { EventBus } from "../eventBus.ts";
import type { DeviceSnapshot } from "../events.ts";
import type { Logger } from "../util/logger.ts";
import { HistoryDb, type BucketDelta, type HistoryPoint } from "./historyDb.ts";
import { bucketStart, HISTORY_RANGES, MAX_SERIES, tierFor, TIERS, type HistoryRange } from "./tiers.ts";
import type { Feature } from "../features/feature.ts";

export interface HistoryOptions {
  bus: EventBus;
  log: Logger;
  file: string;
  /** How often bucket deltas are written (what a crash can lose). Default 10 s. */
  flushMs?: number;
  /** How often old rows are deleted. Default 10 min. */
  pruneMs?: number;
  now?: () => number;
}

/** What the page gets for one device: per numeric key, times (ms) and averages, oldest first. */
export interface DeviceHistory {
  device: string;
  range: HistoryRange;
  /** Bucket width of the points, ms. */
  stepMs: number;
  series: Record<string, { ts: number[]; avg: number[]; min: number[]; max: number[] }>;
}

interface Series {
  id: number;
  /** Last reading folded in, so a snapshot re-emitted without a new reading is not counted twice. */
  lastTs: number;
  /** The open bucket per tier (index as TIERS), holding what is not written yet. */
  open: Array<BucketDelta | null>;
}

export class HistoryRecorder implements Feature {
  #o: HistoryOptions;
  #db: HistoryDb | null = null;
  #series = new Map<string, Series>();
  /** Buckets that closed since the last write. */
  #closed: BucketDelta[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  #now: () => number;
  readonly stats = { readings: 0, skippedSeries: 0, flushes: 0, rowsWritten: 0, writeErrors: 0 };

  constructor(o: HistoryOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  start(): void {
    const db = HistoryDb.open(this.#o.file, this.#o.log);
    this.#db = db;
    for (const s of db.series())
      this.#series.set(seriesKey(s.device, s.key), { id: s.id, lastTs: 0, open: TIERS.map(() => null) });
    this.#prune();
    this.#o.bus.on(this, "deviceUpdated", (snap) => this.record(snap));
    this.#flushTimer = setInterval(() => this.flush(), this.#o.flushMs ?? 10_000);
    this.#flushTimer.unref();
    this.#pruneTimer = setInterval(() => this.#prune(), this.#o.pruneMs ?? 600_000);
    this.#pruneTimer.unref();
  }

  /** Folds a device's numeric values into the open buckets (no I/O). */
  record(snap: DeviceSnapshot): void {
    const ts = snap.updatedAt;
    if (ts === null || !this.#db) return;
    for (const [key, value] of Object.entries(snap.values)) {
      if (typeof value !== "number" || !Number.isFinite(value)) continue;
      const s = this.#seriesFor(snap.id, key);
      if (!s || ts <= s.lastTs) continue;
      s.lastTs = ts;
      this.stats.readings++;
      for (let i = 0; i < TIERS.length; i++) {
        const t = TIERS[i] as (typeof TIERS)[number];
        const bts = bucketStart(ts, t.bucketMs);
        let b = s.open[i];
        if (!b || b.ts !== bts) {
          if (b && b.n > 0) this.#closed.push(b);
          b = { series: s.id, tier: t.name, ts: bts, sum: 0, n: 0, min: Infinity, max: -Infinity };
          s.open[i] = b;
        }
        b.sum += value;
        b.n++;
        if (value < b.min) b.min = value;
        if (value > b.max) b.max = value;
      }
    }
  }

  #seriesFor(device: string, key: string): Series | null {
    const k = seriesKey(device, key);
    const known = this.#series.get(k);
    if (known) return known;
    if (this.#series.size >= MAX_SERIES) {
      if (this.stats.skippedSeries++ === 0)
        this.#o.log.warn(
          `history keeps at most ${MAX_SERIES} series; ${device}/${key} and later ones are not recorded`,
        );
      return null;
    }
    try {
      const s: Series = { id: this.#db!.addSeries(device, key), lastTs: 0, open: TIERS.map(() => null) };
      this.#series.set(k, s);
      return s;
    } catch (err) {
      this.#o.log.error(`history: cannot add series ${device}/${key}: ${(err as Error).message}`);
      return null;
    }
  }

  /** Writes every pending delta in one transaction. A failed write keeps them for the next try. */
  flush(): void {
    if (!this.#db) return;
    const open: BucketDelta[] = [];
    for (const s of this.#series.values()) for (const b of s.open) if (b && b.n > 0) open.push(b);
    const rows = [...this.#closed, ...open];
    if (rows.length === 0) return;
    try {
      this.#db.write(rows);
      this.#closed = [];
      // What is written is added to on disk (the upsert sums), so the open buckets start again from nothing.
      for (const b of open) Object.assign(b, { sum: 0, n: 0, min: Infinity, max: -Infinity });
      this.stats.flushes++;
      this.stats.rowsWritten += rows.length;
    } catch (err) {
      if (this.stats.writeErrors++ === 0 || this.stats.writeErrors % 100 === 0)
        this.#o.log.error(`history write failed (${this.stats.writeErrors} times): ${(err as Error).message}`);
      // Bounded: a disk that stays broken must not grow memory without limit.
      if (this.#closed.length > 50_000) this.#closed = [];
    }
  }

  #prune(): void {
    try {
      this.#db?.prune(this.#now());
    } catch (err) {
      this.#o.log.error(`history prune failed: ${(err as Error).message}`);
    }
  }

  /** A device's history over the range, from the tier that fits it (pending deltas included). */
  query(device: string, range: HistoryRange): DeviceHistory {
    const tier = tierFor(range);
    const out: DeviceHistory = { device, range, stepMs: tier.bucketMs, series: {} };
    if (!this.#db) return out;
    this.flush();
    const from = this.#now() - HISTORY_RANGES[range];
    const prefix = seriesKey(device, "");
    for (const [k, s] of this.#series) {
      if (!k.startsWith(prefix)) continue;
      const points: HistoryPoint[] = this.#db.range(tier.name, s.id, bucketStart(from, tier.bucketMs));
      if (points.length === 0) continue;
      out.series[k.slice(prefix.length)] = {
        ts: points.map((p) => p.ts),
        avg: points.map((p) => round(p.avg)),
        min: points.map((p) => p.min),
        max: points.map((p) => p.max),
      };
    }
    return out;
  }

  /** The device was removed: its history goes with it. */
  forget(device: string): void {
    const prefix = seriesKey(device, "");
    for (const [k, s] of this.#series) {
      if (!k.startsWith(prefix)) continue;
      this.#series.delete(k);
      this.#closed = this.#closed.filter((b) => b.series !== s.id);
    }
    try {
      this.#db?.deleteDevice(device);
    } catch (err) {
      this.#o.log.error(`history: cannot delete ${device}: ${(err as Error).message}`);
    }
  }

  stop(): void {
    this.#o.bus.removeListeners(this);
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    this.#flushTimer = this.#pruneTimer = null;
    this.flush();
    this.#db?.close();
    this.#db = null;
  }
}

function seriesKey(device: string, key: string): string {
  return `${device}\u0000${key}`;
}

/** Averages to 6 significant digits: enough for any sensor here, and half the JSON. */
function round(v: number): number {
  return Number(v.toPrecision(6));
}
