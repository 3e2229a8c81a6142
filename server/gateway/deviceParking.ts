// Devices ThingsBoard refuses because the tenant's device limit is reached: PUBACK 0x97 with the
// connection left open (AbstractGatewaySessionHandler.processFailure for
// "Maximum number of devices reached!", DefaultTransportService). Such a device's messages are
// parked: taken out of the outgoing messages into their own durable queue (a second outbox),
// counted, and retried with backoff, while every other device keeps flowing. The head of the
// outbox is never blocked by one device. ThingsBoard remembers a refused name for about 5 minutes
// (DefaultEntityLimitsCache), so retries start at a minute and double up to half an hour.
import { isObject, parseJson } from "../util/json.ts";
import type { Logger } from "../util/logger.ts";
import type { MergedMessage } from "./mergeMessages.ts";
import { TOPIC } from "./protocol.ts";
import type { OutboxLike } from "./sender.ts";

export interface ParkedDevice {
  device: string;
  /** Parked messages (one per diverted entry) and the data points in them. */
  messages: number;
  points: number;
  since: number;
  retryAt: number;
  attempts: number;
}

export interface DeviceParkingOptions {
  /** Durable queue of the parked entries (its own SQLite file). */
  store: OutboxLike;
  /** Where parked messages go back to when their device is retried. */
  main: OutboxLike;
  log: Logger;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Something changed (parked, retried, counts): for the dashboard and the gateway attribute. */
  onChange?: (parked: ParkedDevice[]) => void;
  /** The device's backoff is over: announce it again. */
  onRetry?: (device: string) => void;
}

const PER_DEVICE = new Set<string>([TOPIC.gwTelemetry, TOPIC.gwAttributes, TOPIC.gwClaim]);

export class DeviceParking {
  readonly #o: DeviceParkingOptions;
  readonly #parked = new Map<string, ParkedDevice & { timer: NodeJS.Timeout | null; retrying: boolean }>();
  /** Backoff attempts survive a retry that fails again. */
  readonly #attempts = new Map<string, number>();
  /** Queued messages (by seqs) whose entry for a device is stored already: a message put back
   *  after a lost connection is diverted again, and must not be stored twice. Bounded. */
  readonly #stored = new Set<string>();

  constructor(o: DeviceParkingOptions) {
    this.#o = o;
  }

  get size(): number {
    return this.#parked.size;
  }

  isParked(device: string): boolean {
    return this.#parked.has(device);
  }

  list(): ParkedDevice[] {
    return [...this.#parked.values()].map(({ timer: _t, retrying: _r, ...p }) => p);
  }

  /** A retry of the device is under way: it may be announced. */
  isRetrying(device: string): boolean {
    return this.#parked.get(device)?.retrying === true;
  }

  /** ThingsBoard refused the device for the device limit: hold its messages, retry later (again
   *  if a retry was just refused, with a longer wait). */
  park(device: string): void {
    const cur = this.#parked.get(device);
    if (cur && !cur.retrying) return;
    const attempts = (this.#attempts.get(device) ?? 0) + 1;
    this.#attempts.set(device, attempts);
    const min = this.#o.minBackoffMs ?? 60_000;
    const wait = Math.min(this.#o.maxBackoffMs ?? 30 * 60_000, min * 2 ** (attempts - 1));
    const now = Date.now();
    const p = cur ?? {
      device,
      messages: 0,
      points: 0,
      since: now,
      retryAt: 0,
      attempts,
      timer: null as NodeJS.Timeout | null,
      retrying: false,
    };
    p.retrying = false;
    p.attempts = attempts;
    p.retryAt = now + wait;
    p.timer = setTimeout(() => this.retry(device), wait);
    p.timer.unref();
    this.#parked.set(device, p);
    if (!cur)
      this.#o.log.warn(
        `ThingsBoard refused device ${device}: the tenant's device limit is reached. Its messages are kept and it is retried in ${Math.round(wait / 1000)} s; the other devices keep sending.`,
      );
    else this.#o.log.info(`device ${device} still refused (device limit); next try in ${Math.round(wait / 1000)} s`);
    this.#changed();
  }

  /** ThingsBoard accepted the device: its held messages go back to the queue, in order. */
  accepted(device: string): void {
    this.#attempts.delete(device);
    const p = this.#parked.get(device);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    this.#parked.delete(device);
    const moved = this.#moveBack((d) => d === device);
    this.#o.log.info(`ThingsBoard accepted device ${device}; ${moved} held message(s) are back in the queue`);
    this.#changed();
  }

  /**
   * `m` without the entries of parked devices, which are stored first (a crash in between
   * sends them twice, never loses them); null when nothing is left to send.
   */
  divert(m: MergedMessage): MergedMessage | null {
    if (this.#parked.size === 0 || !PER_DEVICE.has(m.topic)) return m;
    if (m.devices && !m.devices.some((d) => this.#parked.has(d))) return m;
    const p = parseJson(m.payload);
    if (!p.ok || !isObject(p.value)) return m;
    const keep: Record<string, unknown> = {};
    let points = m.points;
    let diverted = false;
    for (const [device, data] of Object.entries(p.value)) {
      const parked = this.#parked.get(device);
      if (!parked) {
        keep[device] = data;
        continue;
      }
      const n = pointsIn(m.topic, data);
      points -= n;
      diverted = true;
      const key = `${m.seqs.join(",")}|${device}`;
      if (this.#stored.has(key)) continue;
      if (this.#stored.size >= 10_000) this.#stored.clear();
      this.#stored.add(key);
      this.#o.store.enqueue(m.topic, JSON.stringify({ [device]: data }), n);
      parked.messages++;
      parked.points += n;
    }
    if (!diverted) return m;
    this.#changed();
    const devices = Object.keys(keep);
    if (devices.length === 0) return null;
    return { ...m, payload: JSON.stringify(keep), points: Math.max(0, points), devices };
  }

  /** Backoff over: the device is announced again (onRetry); its messages stay held until
   *  ThingsBoard accepts it (accepted) or refuses it again (park). */
  retry(device: string): void {
    const p = this.#parked.get(device);
    if (!p) return;
    p.timer = null;
    p.retrying = true;
    this.#o.log.info(`retrying device ${device} with ThingsBoard (attempt ${p.attempts + 1})`);
    this.#o.onRetry?.(device);
  }

  /** At start-up: whatever was parked before goes back to the outbox (its devices are tried again). */
  restore(): number {
    return this.#moveBack(() => true);
  }

  stop(): void {
    for (const p of this.#parked.values()) if (p.timer) clearTimeout(p.timer);
  }

  #moveBack(which: (device: string) => boolean): number {
    const store = this.#o.store;
    const all = store.take(Number.MAX_SAFE_INTEGER);
    const back: number[] = [];
    let moved = 0;
    for (const m of all) {
      const p = parseJson(m.payload);
      const device = p.ok && isObject(p.value) ? Object.keys(p.value)[0] : undefined;
      if (device === undefined || which(device)) {
        if (device !== undefined) {
          this.#o.main.enqueue(m.topic, m.payload, m.points);
          moved++;
        }
        store.ack(m.seq);
      } else back.push(m.seq);
    }
    if (back.length) store.release(back);
    return moved;
  }

  #changed(): void {
    this.#o.onChange?.(this.list());
  }
}

function pointsIn(topic: string, data: unknown): number {
  if (topic === TOPIC.gwTelemetry && Array.isArray(data)) {
    return data.reduce(
      (n: number, r) => n + (isObject(r) ? Object.keys(isObject(r.values) ? r.values : r).length : 0),
      0,
    );
  }
  return isObject(data) ? Object.keys(data).length : 0;
}
