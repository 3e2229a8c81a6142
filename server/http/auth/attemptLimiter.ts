// Sliding-window limit on login and setup attempts per client address: every attempt counts
// (recorded before the slow scrypt check, so parallel guesses cannot slip through together).
export class AttemptLimiter {
  #attempts = new Map<string, number[]>();
  readonly max: number;
  readonly windowMs: number;
  #now: () => number;

  constructor(max: number, windowMs: number, now: () => number = Date.now) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`Invalid attempt limit ${max}`);
    if (!(windowMs > 0)) throw new RangeError(`Invalid window ${windowMs}`);
    this.max = max;
    this.windowMs = windowMs;
    this.#now = now;
  }

  /** Records an attempt; returns 0 when allowed, else the seconds to wait (for Retry-After). */
  attempt(key: string): number {
    const now = this.#now();
    const recent = (this.#attempts.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (recent.length >= this.max) {
      this.#attempts.set(key, recent);
      const oldest = recent[0] ?? now;
      return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
    }
    recent.push(now);
    this.#attempts.set(key, recent);
    if (this.#attempts.size > 10_000) this.#sweep(now);
    return 0;
  }

  #sweep(now: number): void {
    for (const [k, ts] of this.#attempts) if (!ts.some((t) => t > now - this.windowMs)) this.#attempts.delete(k);
  }
}
