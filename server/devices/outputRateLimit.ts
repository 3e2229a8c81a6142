// How often one output may be switched, whatever asks for it (ThingsBoard RPC, a shared
// attribute, a dashboard click). Issue 12: 10,000 toggle_gpio in 0.7 s from ThingsBoard drove
// GPIO 17 10,000 times; a relay or a motor must not be switched at hundreds of hertz by a buggy
// rule chain. A token bucket per output: `burst` switches at once, then `perSecond`. The default
// (10, then 5/s) is what the dashboard already allowed per socket. Safe-state writes (offline,
// shutdown) are never limited.

export interface OutputRateLimitConfig {
  burst: number;
  perSecond: number;
}

export class OutputRateLimit {
  readonly #cfg: OutputRateLimitConfig;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  /** Switch requests refused so far. */
  refused = 0;

  constructor(cfg: OutputRateLimitConfig, now: () => number = Date.now) {
    this.#cfg = cfg;
    this.#now = now;
    this.#tokens = cfg.burst;
    this.#last = now();
  }

  /** Takes one switch if the bucket has it; false (and counted) if not. */
  tryTake(): boolean {
    const t = this.#now();
    this.#tokens = Math.min(this.#cfg.burst, this.#tokens + ((t - this.#last) / 1000) * this.#cfg.perSecond);
    this.#last = t;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    this.refused++;
    return false;
  }

  describe(): string {
    return `at most ${this.#cfg.burst} switches at once, then ${this.#cfg.perSecond} per second`;
  }
}
