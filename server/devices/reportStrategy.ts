// Which readings become telemetry: every reading, only changes (with a dead band for numbers),
// or changes plus a heartbeat at least every periodSec (like the ThingsBoard IoT Gateway's
// ON_CHANGE_OR_REPORT_PERIOD). Keeps a long-running Pi from sending the same value every second.
import type { ReportConfig } from "../config/schema.ts";
import type { ReadingValue, ReadingValues } from "../readings.ts";

export class Reporter {
  #cfg: ReportConfig;
  #last = new Map<string, { value: ReadingValue; ts: number }>();

  constructor(cfg: ReportConfig) {
    this.#cfg = cfg;
  }

  #changed(key: string, prev: ReadingValue, next: ReadingValue): boolean {
    if (typeof prev === "number" && typeof next === "number") {
      const t = this.#cfg.thresholds[key] ?? this.#cfg.threshold;
      return t > 0 ? Math.abs(next - prev) >= t : next !== prev;
    }
    return typeof prev === "object" || typeof next === "object"
      ? JSON.stringify(prev) !== JSON.stringify(next)
      : prev !== next;
  }

  /** The subset of `values` to report now; remembers what was reported. */
  select(values: ReadingValues, ts: number): ReadingValues {
    const out: ReadingValues = {};
    const periodMs = this.#cfg.periodSec * 1000;
    for (const [k, v] of Object.entries(values)) {
      const prev = this.#last.get(k);
      let send: boolean;
      switch (this.#cfg.strategy) {
        case "every":
          send = true;
          break;
        case "onChange":
          send = !prev || this.#changed(k, prev.value, v);
          break;
        case "onChangeOrPeriod":
          send = !prev || this.#changed(k, prev.value, v) || ts - prev.ts >= periodMs;
          break;
      }
      if (send) {
        out[k] = v;
        this.#last.set(k, { value: v, ts });
      }
    }
    return out;
  }

  /** Forget what was reported, so the next reading of each key is sent (e.g. after a config change). */
  reset(): void {
    this.#last.clear();
  }
}
