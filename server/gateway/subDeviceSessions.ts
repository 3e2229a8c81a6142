// The sub-device sessions the gateway holds in ThingsBoard over its one MQTT connection: which devices are
// announced (v1/gateway/connect) on the current MQTT session, and when each last had traffic. Every (re)connect
// starts a new session with nothing announced, because ThingsBoard delivers RPC and attribute updates only to
// the session where the device was connected (thingsboard/thingsboard#8719, thingsboard-gateway#1061).
import type { TbConnection } from "./connection.ts";
import { encodeOutbound, TOPIC } from "./protocol.ts";

export interface SubDeviceSessionsOptions {
  connection: TbConnection;
  /** Devices to announce, in order. */
  devices: () => Array<{ name: string; profile: string }>;
  /** A device with nothing sent for this long gets a keepalive attribute (default 5 min). */
  keepaliveIdleMs: number | undefined;
  /** Queues the keepalive attribute of an idle device. */
  sendKeepalive: (device: string, now: number) => void;
  /** Counts each announce that got its PUBACK. */
  onAnnounced: (device: string) => void;
  /** Waits for room in the server's rate-limit buckets for one publish (Sender.reserve). */
  reserve: (topic: string, payload: string) => Promise<void>;
  /** An announce was refused (a PUBACK error code): the device limit, or a transport error. */
  onRefused?: (device: string, err: unknown) => void;
}

/** ThingsBoard drops a sub-device's session after 10 min without traffic for it (§4.0,
 *  transport.sessions.inactivity_timeout), and RPC to it then fails with NO_ACTIVE_CONNECTION.
 *  A GPIO device that only reports changes can be silent for hours, so idle devices get a small
 *  client attribute well inside that window. */
const KEEPALIVE_IDLE_MS = 300_000;

export class SubDeviceSessions {
  readonly #o: SubDeviceSessionsOptions;
  readonly #announced = new Set<string>();
  /** Announces reserved or in flight, so a second announceNew does not repeat them. */
  readonly #announcing = new Set<string>();
  readonly #lastSent = new Map<string, number>();
  #session = 0;
  #keepaliveTimer: NodeJS.Timeout | null = null;

  constructor(o: SubDeviceSessionsOptions) {
    this.#o = o;
  }

  /** The current MQTT session's number; work begun on an older one must not complete. */
  get session(): number {
    return this.#session;
  }

  /** The MQTT session began or ended: no device is announced on the new one yet. */
  newSession(): number {
    this.#announced.clear();
    this.#announcing.clear();
    return ++this.#session;
  }

  /** Something was queued for the device: it is not idle. */
  noteSent(device: string): void {
    this.#lastSent.set(device, Date.now());
  }

  /** The device's sub-session is gone (removed here, or dropped by the server): announce it again if it comes back. */
  forget(device: string): void {
    this.#announced.delete(device);
  }

  startKeepalive(): void {
    const idle = this.#o.keepaliveIdleMs ?? KEEPALIVE_IDLE_MS;
    this.#keepaliveTimer = setInterval(() => this.#keepIdleDevicesAlive(idle), Math.max(10, Math.floor(idle / 5)));
  }

  stopKeepalive(): void {
    if (this.#keepaliveTimer) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = null;
  }

  /**
   * Publish v1/gateway/connect for every device not yet announced on this session, paced by the
   * server's rate limits (each new device costs a lookup and a session open:
   * AbstractGatewaySessionHandler.getDeviceCreationFuture), and wait for the PUBACKs (bounded:
   * 10 s after the last one went out).
   */
  async announceNew(): Promise<void> {
    const conn = this.#o.connection;
    if (!conn.connected) return;
    const session = this.#session;
    const todo = this.#o.devices().filter((d) => !this.#announced.has(d.name) && !this.#announcing.has(d.name));
    const sends: Array<Promise<void>> = [];
    for (const d of todo) {
      const payload = encodeOutbound(TOPIC.gwConnect, { device: d.name, type: d.profile });
      this.#announcing.add(d.name);
      try {
        await this.#o.reserve(TOPIC.gwConnect, payload);
      } catch (err) {
        this.#announcing.delete(d.name);
        throw err;
      }
      if (session !== this.#session || !conn.connected) {
        this.#announcing.delete(d.name);
        for (const x of todo) this.#announcing.delete(x.name);
        break;
      }
      sends.push(
        conn
          .publish(TOPIC.gwConnect, payload)
          .then(
            () => {
              this.#lastSent.set(d.name, Date.now()); // a fresh sub-session counts as activity
              if (session === this.#session) this.#announced.add(d.name);
              this.#o.onAnnounced(d.name);
            },
            (err: unknown) => this.#o.onRefused?.(d.name, err),
          )
          .finally(() => this.#announcing.delete(d.name)),
      );
    }
    const timeout = new Promise<void>((r) => setTimeout(r, 10_000).unref());
    await Promise.race([Promise.allSettled(sends), timeout]);
  }

  #keepIdleDevicesAlive(idleMs: number): void {
    if (!this.#o.connection.connected) return;
    const now = Date.now();
    for (const d of this.#o.devices()) {
      if (now - (this.#lastSent.get(d.name) ?? 0) < idleMs) continue;
      this.#lastSent.set(d.name, now);
      this.#o.sendKeepalive(d.name, now);
    }
  }
}
