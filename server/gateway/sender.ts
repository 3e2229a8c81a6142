// Drains the outbox to ThingsBoard: QoS 1 publishes inside a bounded in-flight window,
// paced by token buckets (server session limits and configured limits), and a message leaves
// the outbox only when its PUBACK arrives. On a lost connection everything in flight goes back,
// in order, for redelivery (at-least-once).
import type { Logger } from "../util/logger.ts";
import { PublishError } from "./connection.ts";
import { RateLimiter } from "./rateLimiter.ts";
import { TOPIC } from "./protocol.ts";
import { mergeMessages, splitOversized, type MergedMessage } from "./mergeMessages.ts";

export interface OutboxMessageLike {
  seq: number;
  topic: string;
  payload: string;
  points: number;
  ts: number;
}

/** The part of the Outbox the sender uses (server/outbox/outbox.ts). */
export interface OutboxLike {
  enqueue(topic: string, payload: string, points: number): number;
  take(maxMessages: number, maxBytes?: number): OutboxMessageLike[];
  /** Newest pending messages first-in-line for live data while a backlog drains (optional). */
  takeNewest?(maxMessages: number, maxBytes?: number): OutboxMessageLike[];
  ack(seq: number): void;
  release(seqs?: number[]): void;
  readonly inFlight: number;
  readonly pending: number;
}

export interface SenderLimits {
  window: number;
  /** Sub-device traffic (v1/gateway/*). */
  gwMessages?: string | undefined;
  gwTelemetryMessages?: string | undefined;
  gwDataPoints?: string | undefined;
  /** The gateway's own messages (v1/devices/me/*). */
  ownMessages?: string | undefined;
  ownTelemetryMessages?: string | undefined;
  ownDataPoints?: string | undefined;
  /** From the config, applied to everything on top of the server's limits. */
  configMessages?: string | undefined;
  configDataPoints?: string | undefined;
}

export interface SenderStats {
  published: number;
  acked: number;
  pointsAcked: number;
  rejected: number;
  retried: number;
  rateLimitedWaits: number;
  /** Queued messages re-split because the server's limits were smaller than when they were queued. */
  resplit: number;
}

type Publish = (topic: string, payload: string) => Promise<void>;

/** Token buckets by what they limit: sub-device (gw) or the gateway's own (own) messages,
 *  telemetry messages, and data points. */
type Role = "gwMsg" | "gwTel" | "gwDp" | "ownMsg" | "ownTel" | "ownDp";

/** The server's limits are used at 80 %, as ThingsBoard's own Python client does: our buckets
 *  and the server's refill on clocks that differ by network delay, and a message needing the
 *  whole bucket would otherwise race the server's refill and be refused (found by the enforced
 *  rate-limit test). */
const SERVER_LIMIT_FRACTION = 0.8;

/** PUBACK reason codes that mean the message itself will never be accepted (§4.0 E1-E3, §3). */
const POISON_CODES = new Set([0x83, 0x90, 0x99]);
/** Queued messages looked at per take: enough to fill a large publish from a backlog. */
const MERGE_TAKE = 256;
/** Pending messages beyond which live data gets every other publish. */
const LIVE_PRIORITY_BACKLOG = 4 * MERGE_TAKE;
/** Quota exceeded: the server's rate limit; wait before sending more. */
const QUOTA = 0x97;

export class Sender {
  #outbox: OutboxLike;
  #publish: Publish;
  #log: Logger;
  #active = false;
  #gen = 0;
  #scheduled = false;
  #timer: NodeJS.Timeout | null = null;
  #pausedUntil = 0;
  #liveTurn = false;
  #publishing = 0;
  #window = 50;
  #limiters: Record<Role, RateLimiter[]> = { gwMsg: [], gwTel: [], gwDp: [], ownMsg: [], ownTel: [], ownDp: [] };
  readonly stats: SenderStats = { published: 0, acked: 0, pointsAcked: 0, rejected: 0, retried: 0, rateLimitedWaits: 0, resplit: 0 };
  /** Called after each acknowledged publish (for status updates and latency measurement); cheap. */
  onAck: ((m: MergedMessage) => void) | null = null;

  /** Largest payload one merged publish may have (the bridge's current limit). */
  #maxBytes: () => number;

  constructor(outbox: OutboxLike, publish: Publish, log: Logger, limits: SenderLimits, maxBytes: () => number = () => 65536) {
    this.#outbox = outbox;
    this.#publish = publish;
    this.#log = log;
    this.#maxBytes = maxBytes;
    this.setLimits(limits);
  }

  setLimits(l: SenderLimits): void {
    this.#window = Math.max(1, l.window);
    // A limiter whose role and spec did not change keeps its state: the server's buckets are per
    // device, not per connection, so a fresh full bucket after a reconnect would overdraw them.
    const old = new Map<string, RateLimiter>();
    for (const [role, list] of Object.entries(this.#limiters)) for (const x of list) old.set(`${role}|${x.spec}`, x);
    const server = (role: Role, spec: string | undefined) => this.#limiter(old, role, spec, SERVER_LIMIT_FRACTION);
    const config = (role: Role, spec: string | undefined) => this.#limiter(old, role, spec, 1);
    const roles = {
      gwMsg: [server("gwMsg", l.gwMessages), config("gwMsg", l.configMessages)],
      gwTel: [server("gwTel", l.gwTelemetryMessages)],
      gwDp: [server("gwDp", l.gwDataPoints), config("gwDp", l.configDataPoints)],
      ownMsg: [server("ownMsg", l.ownMessages), config("ownMsg", l.configMessages)],
      ownTel: [server("ownTel", l.ownTelemetryMessages)],
      ownDp: [server("ownDp", l.ownDataPoints), config("ownDp", l.configDataPoints)],
    };
    const keep = (xs: Array<RateLimiter | null>) => xs.filter((x): x is RateLimiter => x !== null);
    this.#limiters = { gwMsg: keep(roles.gwMsg), gwTel: keep(roles.gwTel), gwDp: keep(roles.gwDp), ownMsg: keep(roles.ownMsg), ownTel: keep(roles.ownTel), ownDp: keep(roles.ownDp) };
    this.kick();
  }

  #limiter(old: Map<string, RateLimiter>, role: Role, spec: string | undefined, fraction: number): RateLimiter | null {
    if (!spec) return null;
    const fresh = new RateLimiter(spec, Date.now, fraction);
    return old.get(`${role}|${fresh.spec}`) ?? fresh;
  }

  /** The most data points one telemetry publish may carry: the smallest data-point bucket. */
  get maxPoints(): number {
    const L = this.#limiters;
    return [...L.gwDp, ...L.ownDp].reduce((m, l) => Math.min(m, l.maxCost), Number.POSITIVE_INFINITY);
  }

  /** A message that went out directly (an RPC reply, an attribute request, a claim) still
   *  counts against the server's buckets. */
  noteDirect(topic: string, points = 0): void {
    const [msg, tel, dp] = this.#limitersFor(topic) as [RateLimiter[], RateLimiter[], RateLimiter[]];
    for (const l of msg) l.consume(1);
    for (const l of tel) l.consume(1);
    if (points > 0) for (const l of dp) l.consume(points);
  }

  /** Start draining (after the connection is up and devices are announced). */
  resume(): void {
    this.#active = true;
    this.kick();
  }

  /** Connection lost: stop, and put everything in flight back in order. */
  pause(): void {
    this.#active = false;
    this.#gen++;
    this.#publishing = 0; // publishes of the old connection no longer count
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#outbox.release();
  }

  /** Something was enqueued or acked: drain soon (coalesced). */
  kick(): void {
    if (!this.#active || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #limitersFor(topic: string): RateLimiter[][] {
    const own = topic.startsWith("v1/devices/me/");
    const tel = topic === TOPIC.gwTelemetry || topic === TOPIC.meTelemetry;
    const L = this.#limiters;
    return own ? [L.ownMsg, tel ? L.ownTel : [], L.ownDp] : [L.gwMsg, tel ? L.gwTel : [], L.gwDp];
  }

  /** ms to wait before `m` may go, 0 when it may go now (and then its tokens are taken). */
  #admit(m: { topic: string; points: number }): number {
    const [msg, tel, dp] = this.#limitersFor(m.topic) as [RateLimiter[], RateLimiter[], RateLimiter[]];
    let wait = 0;
    for (const l of msg) wait = Math.max(wait, l.waitMs(1));
    for (const l of tel) wait = Math.max(wait, l.waitMs(1));
    for (const l of dp) wait = Math.max(wait, l.waitMs(m.points));
    if (wait > 0) return wait;
    for (const l of msg) l.tryTake(1);
    for (const l of tel) l.tryTake(1);
    for (const l of dp) l.tryTake(m.points);
    return 0;
  }

  #pump(): void {
    if (!this.#active || this.#timer) return;
    const now = Date.now();
    if (now < this.#pausedUntil) return this.#wake(this.#pausedUntil - now);
    // The window counts publishes awaiting PUBACK (what the server's in-flight limit is about).
    while (this.#active && this.#publishing < this.#window) {
      // Up to MERGE_TAKE queued messages at once (a backlog), combined into few publishes.
      // While a large backlog drains, every other publish carries the newest readings, so
      // ThingsBoard shows current values at once instead of after the whole history.
      const live = this.#outbox.pending > LIVE_PRIORITY_BACKLOG && this.#outbox.takeNewest !== undefined && (this.#liveTurn = !this.#liveTurn);
      const batch = live ? this.#outbox.takeNewest!(MERGE_TAKE, this.#maxBytes()) : this.#outbox.take(MERGE_TAKE, this.#maxBytes());
      if (batch.length === 0) return;
      const merged = mergeMessages(batch, this.maxPoints);
      for (let i = 0; i < merged.length; i++) {
        const m = merged[i] as MergedMessage;
        if (this.#requeueIfOversized(m)) continue;
        const wait = this.#publishing < this.#window ? this.#admit(m) : -1;
        if (wait !== 0) {
          // Window full or rate-limited: give the rest back, in order, for a later round.
          this.#outbox.release(merged.slice(i).flatMap((x) => x.seqs));
          if (wait < 0) return;
          this.stats.rateLimitedWaits++;
          return this.#wake(wait);
        }
        this.#send(m);
      }
    }
  }

  /** A message queued before the server announced smaller limits is replaced in the outbox by
   *  pieces that fit (enqueued first, then the original acked: a crash in between duplicates,
   *  never loses). Returns true when it did so. */
  #requeueIfOversized(m: MergedMessage): boolean {
    if (m.seqs.length !== 1) return false;
    const pieces = splitOversized(m, this.#maxBytes(), this.maxPoints);
    if (pieces.length <= 1) return false;
    for (const p of pieces) this.#outbox.enqueue(p.topic, p.payload, p.points);
    this.#outbox.ack(m.seqs[0] as number);
    this.stats.resplit++;
    this.#log.info(`re-split a queued message into ${pieces.length} to fit the server's limits`, { points: m.points, bytes: m.payload.length });
    return true;
  }

  #wake(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#pump();
    }, Math.max(1, ms));
  }

  #send(m: MergedMessage): void {
    const gen = this.#gen;
    this.stats.published++;
    this.#publishing++;
    const done = () => {
      if (gen === this.#gen) this.#publishing--;
    };
    this.#publish(m.topic, m.payload).then(
      () => {
        done();
        for (const seq of m.seqs) this.#outbox.ack(seq);
        this.stats.acked += m.seqs.length;
        this.stats.pointsAcked += m.points;
        this.onAck?.(m);
        if (gen === this.#gen) this.kick();
      },
      (err: unknown) => {
        done();
        const code = err instanceof PublishError ? err.reasonCode : undefined;
        if (code !== undefined && POISON_CODES.has(code)) {
          // The server will refuse this message forever; keeping it would block the queue.
          for (const seq of m.seqs) this.#outbox.ack(seq);
          this.stats.rejected += m.seqs.length;
          this.#log.error(`ThingsBoard rejected a message on ${m.topic} (reason 0x${code.toString(16)}); dropped it`, { seqs: m.seqs.length, bytes: m.payload.length });
        } else {
          if (gen === this.#gen) this.#outbox.release(m.seqs);
          this.stats.retried++;
          if (code === QUOTA) {
            this.#pausedUntil = Date.now() + 1000;
            this.#log.warn("ThingsBoard rate limit reached (PUBACK 0x97); pausing sends for 1 s");
          }
        }
        if (gen === this.#gen) this.kick();
      },
    );
  }
}
