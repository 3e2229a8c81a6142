// Drains the outbox to ThingsBoard: QoS 1 publishes inside a bounded in-flight window,
// paced by token buckets (server session limits and configured limits), and a message leaves
// the outbox only when its PUBACK arrives. On a lost connection everything in flight goes back,
// in order, for redelivery (at-least-once).
import type { Logger } from "../util/logger.ts";
import { PublishError } from "./connection.ts";
import { LimitBuckets } from "./limitBuckets.ts";
import { costOf, devicesOf, type PublishCost } from "./messageCost.ts";
import { mergeMessages, splitOversized, type MergedMessage } from "./mergeMessages.ts";
import { rewriteQueued } from "./renameQueued.ts";
import type { DeviceParking } from "./deviceParking.ts";
import { DeliveryAttempts, MAX_ATTEMPTS } from "./deliveryAttempts.ts";

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
  /** Publishes the server refused for its rate (PUBACK 0x97 followed by a close). */
  rateLimitBreaches: number;
  /** Publishes answered 0x97 with the connection left open: the tenant's device limit. */
  deviceLimitRefusals: number;
  /** Messages set aside as dead letters (the server closed the connection on them MAX_ATTEMPTS times). */
  deadLettered: number;
}

type Publish = (topic: string, payload: string) => Promise<void>;

/** PUBACK reason codes that mean the message itself will never be accepted (§4.0 E1-E3, §3). */
const POISON_CODES = new Set([0x83, 0x90, 0x99]);
/** Queued messages looked at per take: enough to fill a large publish from a backlog. */
const MERGE_TAKE = 256;
/** Publishes' worth of bytes looked at per take. */
const MERGE_TAKE_PUBLISHES = 8;
/** Pending messages beyond which live data gets every other publish. */
const LIVE_PRIORITY_BACKLOG = 4 * MERGE_TAKE;
/** Quota exceeded: the server's rate limit (and then it closes the connection: E5), or the
 *  tenant's device limit (and the connection stays: E4). */
const QUOTA = 0x97;
/** How long after a 0x97 the connection must stay up for it to be the device limit: ThingsBoard
 *  closes the channel right after the PUBACK on a rate breach
 *  (AbstractGatewaySessionHandler.getAggregatePubAckCallback.onError). */
const QUOTA_VERDICT_MS = 1000;
/** On 3.1.1: a connection lost this soon after a PUBACK is taken as a rate-limit breach. */
const V3_BREACH_WINDOW_MS = 50;

export class Sender {
  #outbox: OutboxLike;
  #publish: Publish;
  #log: Logger;
  #active = false;
  #gen = 0;
  #scheduled = false;
  #timer: NodeJS.Timeout | null = null;
  #liveTurn = false;
  #publishing = 0;
  #window = 50;
  readonly #buckets = new LimitBuckets();
  /** Devices the server has in this connection's gateway session: later use costs no lookup. */
  readonly #sessionDevices = new Set<string>();
  /** Direct publishes waiting for tokens go before the queue. */
  #reserving = 0;
  #verdict: { timer: NodeJS.Timeout; devices: string[] } | null = null;
  /** The session speaks MQTT 3.1.1: a refused PUBACK carries no code (set by the bridge). */
  noReasonCodes = false;
  #lastAckAt = 0;
  /** Old device name -> the name ThingsBoard uses now. */
  #renames: ReadonlyMap<string, string> = new Map();
  /** Devices refused for the device limit: their entries are held aside (deviceParking.ts). */
  parking: DeviceParking | null = null;
  /** Devices deleted in ThingsBoard: what is queued for them is dropped. */
  #isDeleted: (device: string) => boolean = () => false;
  #anyDeleted: () => boolean = () => false;
  readonly stats: SenderStats = {
    published: 0,
    acked: 0,
    pointsAcked: 0,
    rejected: 0,
    retried: 0,
    rateLimitedWaits: 0,
    resplit: 0,
    rateLimitBreaches: 0,
    deviceLimitRefusals: 0,
    deadLettered: 0,
  };
  /** Called after each acknowledged publish (for status updates and latency measurement); cheap. */
  onAck: ((m: MergedMessage) => void) | null = null;
  /** Failed attempts per queued message (issue 12: a message the server closes the connection on). */
  readonly attempts = new DeliveryAttempts();
  #suspectInFlight = false;
  #nextAlone = false;
  /** A message set aside after MAX_ATTEMPTS (outbox/deadLetters.ts keeps it). */
  onDeadLetter: ((m: OutboxMessageLike, attempts: number, reason: string) => void) | null = null;
  /** The server refused these devices for the tenant's device limit (0x97, connection kept). */
  onDeviceLimit: ((devices: string[]) => void) | null = null;

  /** Largest payload one merged publish may have (the bridge's current limit). */
  #maxBytes: () => number;

  constructor(
    outbox: OutboxLike,
    publish: Publish,
    log: Logger,
    limits: SenderLimits,
    maxBytes: () => number = () => 65536,
  ) {
    this.#outbox = outbox;
    this.#publish = publish;
    this.#log = log;
    this.#maxBytes = maxBytes;
    this.setLimits(limits);
  }

  setLimits(l: SenderLimits): void {
    this.#window = Math.max(1, l.window);
    this.#buckets.set(l);
    this.kick();
  }

  /** The most data points one telemetry publish may carry: the smallest data-point bucket. */
  get maxPoints(): number {
    return this.#buckets.maxPoints;
  }

  /** The most device entries one gateway publish may carry (one telemetry-message token each). */
  get maxEntries(): number {
    return this.#buckets.maxEntries;
  }

  /** Fraction of the server's limits in use (below 1 after a breach). */
  get slowdown(): number {
    return this.#buckets.slowdown;
  }

  #costFor(topic: string, payload: string, points: number, devices: string[]): PublishCost {
    const fresh = devices.filter((d) => !this.#sessionDevices.has(d)).length;
    return costOf(topic, points, devices.length, fresh, payload);
  }

  /** A message that must go out at once (an RPC reply) still counts against the server's
   *  buckets: taken even if that overdraws them, so that what waits in the queue waits longer. */
  noteDirect(topic: string, payload: string, points = 0): void {
    const devices = devicesOf(topic, payload);
    this.#buckets.take(this.#costFor(topic, payload, points, devices));
    for (const d of devices) this.#sessionDevices.add(d);
  }

  /**
   * Waits until the server's buckets have room for a direct publish (a device announce, an
   * attribute request), takes the tokens and goes before the queue. Bounded: gives up waiting
   * after `maxWaitMs` and overdraws instead.
   */
  async reserve(topic: string, payload: string, points = 0, maxWaitMs = 120_000): Promise<void> {
    const devices = devicesOf(topic, payload);
    const giveUp = Date.now() + maxWaitMs;
    this.#reserving++;
    try {
      for (;;) {
        const cost = this.#costFor(topic, payload, points, devices);
        const wait = this.#buckets.waitMs(cost);
        if (wait === 0 || Date.now() >= giveUp) {
          this.#buckets.take(cost);
          for (const d of devices) this.#sessionDevices.add(d);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(1, giveUp - Date.now()))));
      }
    } finally {
      this.#reserving--;
      this.kick();
    }
  }

  /** Devices ThingsBoard renamed (queued messages go out under the new names) or deleted (what
   *  is queued for them is dropped). */
  setRenames(
    renames: ReadonlyMap<string, string>,
    isDeleted?: (device: string) => boolean,
    anyDeleted?: () => boolean,
  ): void {
    this.#renames = renames;
    if (isDeleted) this.#isDeleted = isDeleted;
    if (anyDeleted) this.#anyDeleted = anyDeleted;
  }

  /** The server no longer has the device in this session (disconnected, expired): its next use costs a lookup. */
  forgetDevice(name: string): void {
    this.#sessionDevices.delete(name);
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
    // A 0x97 followed by the end of the connection was a rate-limit breach.
    if (this.#verdict) {
      clearTimeout(this.#verdict.timer);
      this.#verdict = null;
      this.#onBreach();
    } else if (this.noReasonCodes && !this.#buckets.unlimited && Date.now() - this.#lastAckAt < V3_BREACH_WINDOW_MS) {
      // On 3.1.1 a breach looks like a PUBACK followed at once by the server closing the
      // connection (ctx.close() right after it). A close that follows an ack that closely while
      // sending under limits is taken as one: slowing down costs little, a loop of breaches loses
      // data on 3.1.1.
      this.#onBreach();
    }
    // A new connection is a new gateway session: every device is looked up again.
    this.#sessionDevices.clear();
    this.#publishing = 0; // publishes of the old connection no longer count
    this.#suspectInFlight = false;
    this.#nextAlone = false;
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

  #pump(): void {
    if (!this.#active || this.#timer || this.#suspectInFlight) return;
    // After a 0x97 nothing is sent until it is known whether the connection stays (the verdict's
    // timer kicks the pump; pause() drops it): a retry sent meanwhile would be refused again.
    if (this.#verdict) return;
    if (this.#reserving > 0) return this.#wake(20);
    // The window counts publishes awaiting PUBACK (what the server's in-flight limit is about).
    while (this.#active && this.#publishing < this.#window) {
      // Up to MERGE_TAKE queued messages at once (a backlog), combined into few publishes.
      // While a large backlog drains, every other publish carries the newest readings, so
      // ThingsBoard shows current values at once instead of after the whole history.
      const live =
        this.#outbox.pending > LIVE_PRIORITY_BACKLOG &&
        this.#outbox.takeNewest !== undefined &&
        (this.#liveTurn = !this.#liveTurn);
      // Several publishes' worth at once, so that a backlog can be grouped by device (mergeMessages).
      const takeBytes = this.#maxBytes() * (Number.isFinite(this.maxEntries) ? MERGE_TAKE_PUBLISHES : 1);
      const taken = live ? this.#outbox.takeNewest!(MERGE_TAKE, takeBytes) : this.#outbox.take(MERGE_TAKE, takeBytes);
      if (taken.length === 0) return;
      const batch = this.#isolateSuspects(taken);
      if (batch === null) return;
      const merged = mergeMessages(batch, this.maxPoints, this.maxEntries, this.#maxBytes());
      for (let i = 0; i < merged.length; i++) {
        const original = merged[i] as MergedMessage;
        const renamed = rewriteQueued(original, {
          renames: this.#renames,
          isDeleted: this.#isDeleted,
          anyDeleted: this.#anyDeleted,
        });
        if (renamed === null) {
          // Only devices deleted in ThingsBoard: nothing to send.
          for (const seq of original.seqs) this.#outbox.ack(seq);
          this.stats.rejected += original.seqs.length;
          this.#log.info(`dropped ${original.seqs.length} queued message(s) for device(s) deleted in ThingsBoard`);
          continue;
        }
        // Entries of devices ThingsBoard refused are held aside; the rest goes on.
        const m = this.parking ? this.parking.divert(renamed) : renamed;
        if (m === null) {
          for (const seq of original.seqs) this.#outbox.ack(seq);
          continue;
        }
        if (this.#requeueIfOversized(m)) continue;
        let wait = -1;
        if (this.#publishing < this.#window && this.#buckets.unlimited) wait = 0;
        else if (this.#publishing < this.#window) {
          const cost = this.#costFor(m.topic, m.payload, m.points, m.devices ?? devicesOf(m.topic, m.payload));
          wait = this.#buckets.waitMs(cost);
          if (wait === 0) this.#buckets.take(cost);
        }
        if (wait !== 0) {
          // Window full or rate-limited: give the rest back, in order, for a later round.
          this.#outbox.release(merged.slice(i).flatMap((x) => x.seqs));
          this.#nextAlone = false;
          if (wait < 0) return;
          this.stats.rateLimitedWaits++;
          return this.#wake(wait);
        }
        const alone = this.#nextAlone;
        this.#nextAlone = false;
        this.#send(m, alone);
        if (alone) return;
      }
      this.#nextAlone = false; // a suspect dropped or re-split above was not sent
    }
  }

  /**
   * Issue 12: a message the server answers by closing the connection was retried forever. A
   * message whose publish failed with the connection is a suspect (deliveryAttempts.ts): it goes
   * out alone, unmerged, with nothing else in flight, so that its own fate is known. Returns what
   * to send now (the rest is given back in order), or null to wait.
   */
  #isolateSuspects(taken: OutboxMessageLike[]): OutboxMessageLike[] | null {
    if (this.attempts.suspects === 0) return taken;
    const first = taken.findIndex((m) => this.attempts.isSuspect(m.seq));
    if (first < 0) return taken;
    if (first > 0) {
      this.#outbox.release(taken.slice(first).map((m) => m.seq));
      return taken.slice(0, first);
    }
    this.#outbox.release(taken.slice(first === 0 && this.#publishing === 0 ? 1 : 0).map((m) => m.seq));
    if (this.#publishing > 0) return null; // what is in flight finishes first (its ack kicks)
    this.#nextAlone = true;
    return taken.slice(0, 1);
  }

  /** A message queued before the server announced smaller limits is replaced in the outbox by
   *  pieces that fit (enqueued first, then the original acked: a crash in between duplicates,
   *  never loses). Returns true when it did so. */
  #requeueIfOversized(m: MergedMessage): boolean {
    if (m.seqs.length !== 1) return false;
    const pieces = splitOversized(m, this.#maxBytes(), this.maxPoints, this.maxEntries);
    if (pieces.length <= 1) return false;
    for (const p of pieces) this.#outbox.enqueue(p.topic, p.payload, p.points);
    this.#outbox.ack(m.seqs[0] as number);
    this.stats.resplit++;
    this.#log.info(`re-split a queued message into ${pieces.length} to fit the server's limits`, {
      points: m.points,
      bytes: m.payload.length,
    });
    return true;
  }

  #wake(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#pump();
      },
      Math.max(1, ms),
    );
  }

  #send(m: MergedMessage, alone = false): void {
    const gen = this.#gen;
    if (alone) this.#suspectInFlight = true;
    // Which devices the server must look up for this publish: counted when there are limits;
    // without any, worked out only if the server refuses it (the hot path parses nothing).
    const freshOf = (): string[] =>
      (m.devices ?? devicesOf(m.topic, m.payload)).filter((d) => !this.#sessionDevices.has(d));
    let fresh: string[] | null = null;
    if (!this.#buckets.unlimited) {
      fresh = freshOf();
      for (const d of fresh) this.#sessionDevices.add(d);
    }
    this.stats.published++;
    this.#publishing++;
    const done = () => {
      if (gen === this.#gen) this.#publishing--;
      if (alone) this.#suspectInFlight = false;
    };
    this.#publish(m.topic, m.payload).then(
      () => {
        done();
        this.#lastAckAt = Date.now();
        for (const seq of m.seqs) {
          this.#outbox.ack(seq);
          this.attempts.forget(seq);
        }
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
          this.#log.error(`ThingsBoard rejected a message on ${m.topic} (reason 0x${code.toString(16)}); dropped it`, {
            seqs: m.seqs.length,
            bytes: m.payload.length,
          });
        } else {
          if (gen === this.#gen) this.#outbox.release(m.seqs);
          this.stats.retried++;
          if (code === undefined && err instanceof PublishError && err.message !== "not connected")
            this.#countFailure(m, alone);
          if (code === QUOTA && gen === this.#gen) this.#awaitQuotaVerdict(fresh ?? freshOf());
        }
        if (gen === this.#gen) this.kick();
      },
    );
  }

  /**
   * A 0x97 is either a rate-limit breach (ThingsBoard closes the connection right after it) or
   * the tenant's device limit for a device it had to look up (the connection stays open). Sends
   * wait until that is known; `fresh` are the message's devices that needed a lookup.
   */
  #awaitQuotaVerdict(fresh: string[]): void {
    if (this.#verdict) {
      // Several publishes in flight may name the same device: report it once.
      for (const d of fresh) if (!this.#verdict.devices.includes(d)) this.#verdict.devices.push(d);
      return;
    }
    const verdict = {
      devices: [...fresh],
      timer: setTimeout(() => {
        if (this.#verdict !== verdict) return;
        this.#verdict = null;
        // Still connected: not a rate breach. Only a device that needed a lookup can be refused
        // for the device limit; it is not in the server's session.
        for (const d of verdict.devices) this.#sessionDevices.delete(d);
        this.stats.deviceLimitRefusals++;
        this.#log.warn(
          `ThingsBoard refused ${verdict.devices.length ? verdict.devices.join(", ") : "a message"} (PUBACK 0x97, connection kept): the tenant's device limit is reached`,
        );
        if (verdict.devices.length) this.onDeviceLimit?.(verdict.devices);
        this.kick();
      }, QUOTA_VERDICT_MS),
    };
    this.#verdict = verdict;
  }

  /** The publish failed with the connection: one more attempt for its messages; after
   *  MAX_ATTEMPTS alone, the message leaves the queue for the dead letters. */
  #countFailure(m: MergedMessage, alone: boolean): void {
    for (const seq of this.attempts.failed(m.seqs, alone)) {
      this.attempts.forget(seq);
      this.#outbox.ack(seq);
      this.stats.deadLettered++;
      const reason = "the server closed the connection on it each time it was sent alone";
      this.#log.error(`set a message on ${m.topic} aside as a dead letter after ${MAX_ATTEMPTS} attempts: ${reason}`, {
        bytes: m.payload.length,
        points: m.points,
      });
      this.onDeadLetter?.(
        { seq, topic: m.topic, payload: m.payload, points: m.points, ts: Date.now() },
        MAX_ATTEMPTS,
        reason,
      );
    }
  }

  #onBreach(): void {
    this.stats.rateLimitBreaches++;
    this.#buckets.breach();
    this.#log.warn(
      `ThingsBoard refused a publish for its rate limit and closed the connection; now using ${Math.round(this.#buckets.slowdown * 100)} % of the pace it allowed before`,
    );
  }
}
