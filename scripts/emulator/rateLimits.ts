// Token buckets from ThingsBoard tenant-profile strings such as "20:600,100:3600"
// ("capacity:seconds", comma-separated; every bucket must have room). ThingsBoard uses Bucket4j
// with a greedy refill, which adds tokens continuously at capacity/seconds; we do the same.

interface Bucket {
  capacity: number;
  perMs: number;
  tokens: number;
  at: number;
}

export class RateLimit {
  private readonly buckets: Bucket[];

  /** Throws on a malformed spec: limits come from our own options, so this is a programmer error. */
  constructor(
    readonly spec: string,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = spec
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map((part) => {
        const m = /^(\d+):(\d+)$/.exec(part);
        if (!m) throw new Error(`Invalid rate limit '${spec}': expected capacity:seconds[,capacity:seconds]`);
        const capacity = Number(m[1]);
        const seconds = Number(m[2]);
        if (capacity <= 0 || seconds <= 0)
          throw new Error(`Invalid rate limit '${spec}': capacity and seconds must be > 0`);
        return { capacity, perMs: capacity / (seconds * 1000), tokens: capacity, at: now() };
      });
  }

  /** Takes `n` tokens from every bucket if all have them; otherwise takes nothing. */
  tryConsume(n = 1): boolean {
    const t = this.now();
    for (const b of this.buckets) {
      b.tokens = Math.min(b.capacity, b.tokens + (t - b.at) * b.perMs);
      b.at = t;
    }
    if (this.buckets.some((b) => b.tokens < n)) return false;
    for (const b of this.buckets) b.tokens -= n;
    return true;
  }
}

export interface RateLimitSpec {
  messages?: string;
  telemetryMessages?: string;
  telemetryDataPoints?: string;
}

/**
 * The three limits of one scope: the tenant, a device's own traffic, the gateway device's own
 * traffic, or all sub-device traffic of one gateway (DefaultTransportRateLimitService,
 * TransportLimitsType).
 */
export class LimitSet {
  private readonly messages?: RateLimit;
  private readonly telemetryMessages?: RateLimit;
  private readonly telemetryDataPoints?: RateLimit;

  constructor(spec: RateLimitSpec | undefined, now: () => number = Date.now) {
    if (spec?.messages) this.messages = new RateLimit(spec.messages, now);
    if (spec?.telemetryMessages) this.telemetryMessages = new RateLimit(spec.telemetryMessages, now);
    if (spec?.telemetryDataPoints) this.telemetryDataPoints = new RateLimit(spec.telemetryDataPoints, now);
  }

  /**
   * ThingsBoard's checkEntityRateLimit (DefaultTransportRateLimitService.java): a call that
   * carries data points (telemetry, and client attributes with their key count) takes one
   * telemetry-message token and then its data points, and NOT a regular-message token; any
   * other call (a device lookup, a session event, an attribute request, an RPC reply, a claim)
   * takes one regular-message token. The telemetry-message token stays taken when the data
   * points are then refused, as in the `&&` there.
   */
  allow(dataPoints: number): boolean {
    if (dataPoints > 0) {
      if (this.telemetryMessages && !this.telemetryMessages.tryConsume(1)) return false;
      return !this.telemetryDataPoints || this.telemetryDataPoints.tryConsume(dataPoints);
    }
    return !this.messages || this.messages.tryConsume(1);
  }
}

/** The shape getSessionLimits reports: each limit string, or null when unset (§3.6). */
export function describeLimits(spec: RateLimitSpec | undefined): Record<string, string | null> {
  return {
    messages: spec?.messages ?? null,
    telemetryMessages: spec?.telemetryMessages ?? null,
    telemetryDataPoints: spec?.telemetryDataPoints ?? null,
  };
}
