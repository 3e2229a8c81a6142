// The history's resolution tiers and which one answers each range the page offers.
// Bounded by construction: a series holds at most retention/bucket rows per tier, and the number
// of series is capped, so the file cannot grow without limit whatever the devices send.

export interface Tier {
  /** Table name in history.db. */
  name: "fine" | "medium" | "coarse";
  bucketMs: number;
  retentionMs: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A day at 10 s (the 1 h view: 360 points), two days at 1 min (24 h: 1440) and a month at 10 min (7 d: 1008).
 *  At most 8640 + 2880 + 4464 rows per series. */
export const TIERS: readonly Tier[] = [
  { name: "fine", bucketMs: 10_000, retentionMs: DAY },
  { name: "medium", bucketMs: MIN, retentionMs: 2 * DAY },
  { name: "coarse", bucketMs: 10 * MIN, retentionMs: 31 * DAY },
];

export const HISTORY_RANGES = { "1h": HOUR, "24h": DAY, "7d": 7 * DAY } as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;

export function isHistoryRange(v: unknown): v is HistoryRange {
  return typeof v === "string" && Object.hasOwn(HISTORY_RANGES, v);
}

/** The finest tier that still keeps the whole range, and at most ~2000 points per series. */
export function tierFor(range: HistoryRange): Tier {
  const span = HISTORY_RANGES[range];
  for (const t of TIERS) if (t.retentionMs >= span && span / t.bucketMs <= 2100) return t;
  return TIERS[TIERS.length - 1] as Tier;
}

export function bucketStart(ts: number, bucketMs: number): number {
  return ts - (ts % bucketMs);
}

/** At most this many device/key series are recorded (the demo has about 20); more are counted and
 *  skipped. With the tiers above a full series is ~16 000 rows of ~42 bytes, 0.67 MB (measured: 10
 *  series, 31 days every 10 s), so the file stays near 70 MB at most whatever the devices send. */
export const MAX_SERIES = 100;
