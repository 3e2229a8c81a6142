// Recent numeric values per device and key, kept client-side for the charts (last 10 minutes).

export const HISTORY_MS = 10 * 60_000;
const MAX_POINTS = 3000;

export class History {
  #series = new Map<string, { ts: number[]; values: number[] }>();

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
    let drop = 0;
    while (drop < s.ts.length && ((s.ts[drop] ?? 0) < ts - HISTORY_MS || s.ts.length - drop > MAX_POINTS)) drop++;
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
    for (const k of [...this.#series.keys()]) if (k.startsWith(`${device}\u0000`)) this.#series.delete(k);
  }
}
