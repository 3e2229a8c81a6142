// Chart data per device and key: what the appliance kept (server/history/, fetched per range) with
// the live readings since appended, trimmed to the range the user picked.
import type { DeviceHistory } from "../../server/history/historyRecorder.ts";
import type { HistoryRange } from "../../server/history/tiers.ts";

export const RANGES: Record<HistoryRange, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };
const MAX_POINTS = 5000;

interface Series {
  ts: number[];
  values: number[];
}

export class History {
  #series = new Map<string, Series>();
  #range: HistoryRange = "1h";

  get range(): HistoryRange {
    return this.#range;
  }

  get rangeMs(): number {
    return RANGES[this.#range];
  }

  /** A new range: the stored points are for the old one, so they go; the server's answer replaces them. */
  setRange(range: HistoryRange): void {
    if (range === this.#range) return;
    this.#range = range;
    this.#series.clear();
  }

  #key(device: string, key: string): string {
    return `${device}\u0000${key}`;
  }

  add(device: string, key: string, ts: number, value: number): void {
    const k = this.#key(device, key);
    let s = this.#series.get(k);
    if (!s) {
      s = { ts: [], values: [] };
      this.#series.set(k, s);
    }
    const last = s.ts.at(-1);
    if (last !== undefined && ts <= last) return; // the same reading seen again (snapshot after a delta)
    s.ts.push(ts);
    s.values.push(value);
    this.#trim(s, ts);
  }

  /** The appliance's stored history for a device; live points newer than its last bucket are kept. */
  load(h: DeviceHistory): void {
    if (h.range !== this.#range) return; // an answer for a range the user has left
    for (const [key, stored] of Object.entries(h.series)) {
      const k = this.#key(h.device, key);
      const live = this.#series.get(k);
      const lastStored = stored.ts.at(-1) ?? -Infinity;
      const s: Series = { ts: [...stored.ts], values: [...stored.avg] };
      if (live) {
        for (let i = 0; i < live.ts.length; i++) {
          const t = live.ts[i] as number;
          // A live reading inside the last stored bucket is already part of its average.
          if (t >= lastStored + h.stepMs) {
            s.ts.push(t);
            s.values.push(live.values[i] as number);
          }
        }
      }
      this.#series.set(k, s);
      this.#trim(s, Date.now());
    }
  }

  #trim(s: Series, now: number): void {
    let drop = 0;
    while (drop < s.ts.length && ((s.ts[drop] ?? 0) < now - this.rangeMs || s.ts.length - drop > MAX_POINTS)) drop++;
    if (drop > 0) {
      s.ts.splice(0, drop);
      s.values.splice(0, drop);
    }
  }

  /** uPlot data: x in seconds, then the values. */
  series(device: string, key: string): [number[], number[]] {
    const s = this.#series.get(this.#key(device, key));
    if (!s) return [[], []];
    return [s.ts.map((t) => t / 1000), s.values.slice()];
  }

  forget(device: string): void {
    for (const k of Array.from(this.#series.keys())) if (k.startsWith(`${device}\u0000`)) this.#series.delete(k);
  }
}
