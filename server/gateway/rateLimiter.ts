// Token buckets in ThingsBoard's own notation: "capacity:seconds[,capacity:seconds...]"
// (tenant profile strings such as "20:1,600:60", returned by getSessionLimits, §3.6).
// Every bucket must have room for a cost; each refills continuously at capacity/seconds.

export interface Bucket {
  capacity: number;
  perMs: number;
  tokens: number;
  last: number;
}

export function parseLimits(spec: string | null | undefined): Array<{ capacity: number; seconds: number }> {
  if (!spec) return [];
  const out: Array<{ capacity: number; seconds: number }> = [];
  for (const part of spec.split(",")) {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!m) continue;
    const capacity = Number(m[1]);
    const seconds = Number(m[2]);
    if (capacity > 0 && seconds > 0) out.push({ capacity, seconds });
  }
  return out;
}

export class RateLimiter {
  readonly spec: string;
  #buckets: Bucket[];
  #now: () => number;

  /** `fraction` scales each bucket's capacity (the burst) and, unless `rateFraction` is given,
   *  its refill rate too. A smaller burst with a near-full rate keeps a sender inside a server
   *  bucket of the full size even when network delay bunches its messages up, while the
   *  sustained rate stays close to what the server allows. */
  constructor(spec: string | null | undefined, now: () => number = Date.now, fraction = 1, rateFraction = fraction) {
    this.#now = now;
    this.spec = `${spec ?? ""}@${fraction}/${rateFraction}`;
    const t = now();
    this.#buckets = parseLimits(spec).map(({ capacity, seconds }) => {
      const cap = Math.max(1, Math.floor(capacity * fraction));
      return { capacity: cap, perMs: (capacity * rateFraction) / (seconds * 1000), tokens: cap, last: t };
    });
  }

  get unlimited(): boolean {
    return this.#buckets.length === 0;
  }

  /** The largest cost that can ever pass at once (smallest capacity), Infinity when unlimited. */
  get maxCost(): number {
    return this.#buckets.reduce((m, b) => Math.min(m, b.capacity), Infinity);
  }

  #refill(): void {
    const t = this.#now();
    for (const b of this.#buckets) {
      b.tokens = Math.min(b.capacity, b.tokens + (t - b.last) * b.perMs);
      b.last = t;
    }
  }

  /** ms until `cost` tokens are available in every bucket (0 = now). */
  waitMs(cost: number): number {
    this.#refill();
    let wait = 0;
    for (const b of this.#buckets) {
      const c = Math.min(cost, b.capacity);
      if (b.tokens < c) wait = Math.max(wait, Math.ceil((c - b.tokens) / b.perMs));
    }
    return wait;
  }

  /** Take `cost` tokens now even if that overdraws the buckets: for messages that must go at
   *  once (RPC replies), so that what waits in the queue waits longer instead. */
  consume(cost: number): void {
    this.#refill();
    for (const b of this.#buckets) b.tokens -= Math.min(cost, b.capacity);
  }

  /** Take `cost` tokens if every bucket has them. Costs above a bucket's capacity are capped
   *  to it, so an oversized message waits for a full bucket instead of never passing. */
  tryTake(cost: number): boolean {
    if (this.waitMs(cost) > 0) return false;
    for (const b of this.#buckets) b.tokens -= Math.min(cost, b.capacity);
    return true;
  }
}
