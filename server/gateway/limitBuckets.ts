// The sender's token buckets, one list per thing ThingsBoard limits (messageCost.ts says what
// each publish costs): sub-device (gw) and own regular messages, telemetry messages and data
// points, plus the configured limits on every publish and its points.
import { RateLimiter } from "./rateLimiter.ts";
import type { PublishCost } from "./messageCost.ts";
import type { SenderLimits } from "./sender.ts";

type Role = "gwMsg" | "gwTel" | "gwDp" | "ownMsg" | "ownTel" | "ownDp" | "cfgMsg" | "cfgDp";
const ROLES: Role[] = ["gwMsg", "gwTel", "gwDp", "ownMsg", "ownTel", "ownDp", "cfgMsg", "cfgDp"];

/** The server's bucket sizes are used at 80 %, as ThingsBoard's own Python client does: our
 *  buckets and the server's refill on clocks that differ by network delay, and a message needing
 *  the whole bucket would otherwise race the server's refill and be refused (found by the
 *  enforced rate-limit test). The refill rate is used at 95 %: traffic that never bursts more
 *  than 80 % of a bucket and never refills faster than the server passes the server's bucket
 *  (a token bucket admits exactly what stays under burst + rate x time), with 20 % of the bucket
 *  as margin for delay jitter, and a backlog drains at 95 % of what the limits allow. */
const SERVER_BURST_FRACTION = 0.8;
const SERVER_RATE_FRACTION = 0.95;
/** After a breach the server's limits are used at half that, then a quarter; back to normal
 *  after this long without one. */
const SLOWDOWN_RECOVERY_MS = 10 * 60_000;
const MIN_SLOWDOWN = 0.25;

type Costs = Record<Role, number>;

export class LimitBuckets {
  #limiters: Record<Role, RateLimiter[]> = {
    gwMsg: [],
    gwTel: [],
    gwDp: [],
    ownMsg: [],
    ownTel: [],
    ownDp: [],
    cfgMsg: [],
    cfgDp: [],
  };
  #limits: SenderLimits = { window: 1 };
  #slowdown = 1;
  #lastBreach = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Fraction of the server's limits in use now (1 = normal, lower after a breach). */
  get slowdown(): number {
    return this.#slowdown;
  }

  set(l: SenderLimits, drain = false): void {
    this.#limits = l;
    // A limiter whose role and spec did not change keeps its state: the server's buckets are per
    // device, not per connection, so a fresh full bucket after a reconnect would overdraw them.
    const old = new Map<string, RateLimiter>();
    for (const role of ROLES) for (const x of this.#limiters[role]) old.set(`${role}|${x.spec}`, x);
    const burst = SERVER_BURST_FRACTION * this.#slowdown;
    const rate = SERVER_RATE_FRACTION * this.#slowdown;
    const make = (role: Role, spec: string | undefined, server: boolean): RateLimiter | null => {
      if (!spec) return null;
      const fresh = server ? new RateLimiter(spec, this.#now, burst, rate) : new RateLimiter(spec, this.#now);
      const kept = old.get(`${role}|${fresh.spec}`);
      if (kept) return kept;
      if (drain) fresh.consume(Number.POSITIVE_INFINITY);
      return fresh;
    };
    const keep = (xs: Array<RateLimiter | null>) => xs.filter((x): x is RateLimiter => x !== null);
    this.#limiters = {
      gwMsg: keep([make("gwMsg", l.gwMessages, true)]),
      gwTel: keep([make("gwTel", l.gwTelemetryMessages, true)]),
      gwDp: keep([make("gwDp", l.gwDataPoints, true)]),
      ownMsg: keep([make("ownMsg", l.ownMessages, true)]),
      ownTel: keep([make("ownTel", l.ownTelemetryMessages, true)]),
      ownDp: keep([make("ownDp", l.ownDataPoints, true)]),
      // The configured limits are the tenant's as the user knows them (an older ThingsBoard has
      // no getSessionLimits): used with the same margins.
      cfgMsg: keep([make("cfgMsg", l.configMessages, true)]),
      cfgDp: keep([make("cfgDp", l.configDataPoints, true)]),
    };
  }

  /** The server refused a publish for its rate (limits changed on the server, or a clock race):
   *  use less of the limits, starting from empty buckets, so it does not happen again. */
  breach(): void {
    this.#lastBreach = this.#now();
    this.#slowdown = Math.max(MIN_SLOWDOWN, this.#slowdown / 2);
    this.#limiters = { gwMsg: [], gwTel: [], gwDp: [], ownMsg: [], ownTel: [], ownDp: [], cfgMsg: [], cfgDp: [] };
    this.set(this.#limits, true);
  }

  #recover(): void {
    if (this.#slowdown < 1 && this.#now() - this.#lastBreach > SLOWDOWN_RECOVERY_MS) {
      this.#slowdown = 1;
      this.#limiters = { gwMsg: [], gwTel: [], gwDp: [], ownMsg: [], ownTel: [], ownDp: [], cfgMsg: [], cfgDp: [] };
      this.set(this.#limits, true);
    }
  }

  /** No limits at all (none announced or configured): nothing to count. */
  get unlimited(): boolean {
    return ROLES.every((r) => this.#limiters[r].length === 0);
  }

  /** The most data points one telemetry publish may carry: the smallest data-point bucket. */
  get maxPoints(): number {
    const L = this.#limiters;
    return [...L.gwDp, ...L.ownDp, ...L.cfgDp].reduce((m, l) => Math.min(m, l.maxCost), Number.POSITIVE_INFINITY);
  }

  /** The most device entries one gateway publish may carry: each takes a telemetry-message token. */
  get maxEntries(): number {
    return [...this.#limiters.gwTel, ...this.#limiters.cfgMsg].reduce(
      (m, l) => Math.min(m, l.maxCost),
      Number.POSITIVE_INFINITY,
    );
  }

  /** The configured "messages" count what ThingsBoard counts as messages (every call, regular or
   *  telemetry), "dataPoints" every data point. */
  #costs(c: PublishCost): Costs {
    return { ...c, cfgMsg: c.gwMsg + c.gwTel + c.ownMsg + c.ownTel, cfgDp: c.gwDp + c.ownDp };
  }

  /** ms until every bucket has room for the cost (0 = now). */
  waitMs(c: PublishCost): number {
    this.#recover();
    const costs = this.#costs(c);
    let wait = 0;
    for (const role of ROLES) {
      const n = costs[role];
      if (n > 0) for (const l of this.#limiters[role]) wait = Math.max(wait, l.waitMs(n));
    }
    return wait;
  }

  /** Takes the tokens (call after waitMs returned 0), or overdraws them for what must go now. */
  take(c: PublishCost): void {
    const costs = this.#costs(c);
    for (const role of ROLES) {
      const n = costs[role];
      if (n > 0) for (const l of this.#limiters[role]) l.consume(n);
    }
  }
}
