// The ThingsBoard gateway bridge: turns bus events into gateway API messages and server
// messages into bus events and RPC calls. One MQTT connection carries every device.
// After EVERY (re)connect it re-announces every device with v1/gateway/connect before anything
// else (subDeviceSessions.ts says why, and keeps idle devices' sessions alive).
import type { EventBus } from "../eventBus.ts";
import type { RpcDispatcher, RpcReply } from "../rpc/types.ts";
import type { Logger } from "../util/logger.ts";
import { detach } from "../util/detach.ts";
import type { TbConnection } from "./connection.ts";
import { ReadingBuffer } from "./readingBuffer.ts";
import { EchoFilter } from "./echoFilter.ts";
import { answerRpc } from "./rpcAnswer.ts";
import { PendingRequests } from "./pendingRequests.ts";
import {
  encodeOutbound,
  isOtaTopic,
  parseInbound,
  TOPIC,
  type GwRpcRequest,
  type MeRpcRequest,
  type TsRecord,
} from "./protocol.ts";
import { Sender, type OutboxLike, type SenderLimits } from "./sender.ts";
import { senderLimitsFor, type ConfiguredRateLimits } from "./senderLimits.ts";
import { parseSessionLimits, type SessionLimits } from "./sessionLimits.ts";
import { SubDeviceSessions } from "./subDeviceSessions.ts";
import { DeviceParking, type ParkedDevice } from "./deviceParking.ts";
import { PublishError } from "./connection.ts";
import { InboundRefusals } from "./inboundRefusals.ts";
import { preview } from "../util/json.ts";
import type { RpcAdmission, RpcAdmissionLimits } from "./rpcAdmission.ts";
import type { BusyReplies } from "./busyReplies.ts";

export interface BridgeDevice {
  name: string;
  profile: string;
}

export interface BridgeOptions {
  bus: EventBus;
  log: Logger;
  connection: TbConnection;
  outbox: OutboxLike;
  rpc: RpcDispatcher;
  /** Devices to announce, in order. */
  devices: () => BridgeDevice[];
  flushIntervalMs: number;
  maxPayloadBytes: number;
  maxInflight: number;
  attributeRequestTimeoutMs: number;
  configRateLimits?: ConfiguredRateLimits;
  /** RPC to the gateway device itself (v1/devices/me/rpc/request/+). */
  gatewayRpc?: (method: string, params: unknown) => Promise<RpcReply>;
  /** Shared attribute updates of the gateway device itself. */
  onGatewayAttributes?: (data: Record<string, unknown>, deleted: string[]) => void;
  /** How long to wait for getSessionLimits before draining anyway. */
  sessionLimitsTimeoutMs?: number;
  /** A device with nothing sent for this long gets a keepalive attribute (default 5 min). */
  keepaliveIdleMs?: number;
  /** Server RPCs running at once and waiting; the excess is answered with an error at once. */
  rpcLimits?: RpcAdmissionLimits;
  /** Deleted in ThingsBoard: nothing more is sent under this name (it would re-create the device). */
  isDeleted?: (device: string) => boolean;
  /** Is any device deleted in ThingsBoard? */
  anyDeleted?: () => boolean;
  /** Names ThingsBoard renamed -> the name it uses now: queued messages are sent under the new one. */
  renames?: () => Map<string, string>;
  /** Durable queue for the messages of devices ThingsBoard refuses (device limit); none = not parked. */
  parkedStore?: OutboxLike;
  /** Backoff before a refused device is tried again (default 1 min, doubling to 30 min). */
  parkingBackoffMs?: { min: number; max: number };
  /** The parked devices changed (for the dashboard). */
  onParked?: (parked: ParkedDevice[]) => void;
}

export interface BridgeStats {
  malformed: number;
  /** Server messages over thingsboard.maxInboundBytes, dropped before they were read. */
  oversized: number;
  echoes: number;
  rpcReceived: number;
  rpcAnswered: number;
  /** Server RPCs refused because too many were running and waiting (answered with code BUSY). */
  rpcRejected: number;
  attributeUpdates: number;
  announces: number;
  messagesReceived: number;
  pointsQueued: number;
}

export class GatewayBridge {
  #o: BridgeOptions;
  #buffer: ReadingBuffer;
  #pending: PendingRequests;
  readonly sender: Sender;
  #flushTimer: NodeJS.Timeout | null = null;
  #limits: SessionLimits | null = null;
  #readyListeners = new Set<() => void>();
  #echoes = new EchoFilter();
  readonly #subSessions: SubDeviceSessions;
  #parking: DeviceParking | null = null;
  #parkedNames = "";
  #parkedAttrAt = 0;
  readonly #refusals: InboundRefusals;
  readonly stats: BridgeStats = {
    malformed: 0,
    oversized: 0,
    echoes: 0,
    rpcReceived: 0,
    rpcAnswered: 0,
    rpcRejected: 0,
    attributeUpdates: 0,
    announces: 0,
    messagesReceived: 0,
    pointsQueued: 0,
  };

  constructor(o: BridgeOptions) {
    this.#o = o;
    this.#buffer = new ReadingBuffer(o.maxPayloadBytes);
    this.#buffer.onUnsendable = (device, key, bytes) => {
      const n = this.#buffer.unsendable;
      if (n === 1 || n % 100 === 0)
        o.log.warn(
          `refused ${device ? `${device}'s` : "the gateway's"} value ${preview(key, 60)} of ${bytes} bytes: it can never fit in one message to ThingsBoard (limit ${this.#buffer.builder.maxBytes} bytes); ${n} refused so far`,
        );
    };
    this.#refusals = new InboundRefusals({
      limits: o.rpcLimits,
      publish: (t, p) => this.#publishDirect(t, p),
      log: o.log,
      counters: this.stats,
    });
    // Requests wait for room in the server's buckets (200 devices asking for their attributes
    // after a reconnect would otherwise breach the limits at once).
    this.#pending = new PendingRequests((t, p) => this.#publishPaced(t, p), o.attributeRequestTimeoutMs);
    this.sender = new Sender(
      o.outbox,
      (t, p) => this.#publish(t, p),
      o.log.child("sender"),
      this.#senderLimits(),
      () => this.#buffer.builder.maxBytes,
    );
    this.#buffer.builder.maxPoints = this.sender.maxPoints;
    this.#buffer.builder.maxEntries = this.sender.maxEntries;
    if (o.parkedStore) {
      const parking = new DeviceParking({
        store: o.parkedStore,
        main: o.outbox,
        log: o.log.child("parking"),
        ...(o.parkingBackoffMs ? { minBackoffMs: o.parkingBackoffMs.min, maxBackoffMs: o.parkingBackoffMs.max } : {}),
        onChange: (list) => this.#onParkedChanged(list),
        onRetry: (device) => {
          this.#subSessions.forget(device);
          this.sender.forgetDevice(device);
          detach(`retrying ${device}`, this.#subSessions.announceNew(), this.#o.log);
        },
      });
      this.#parking = parking;
      this.sender.parking = parking;
      this.sender.onDeviceLimit = (devices) => {
        for (const d of devices) parking.park(d);
      };
    }
    this.#subSessions = new SubDeviceSessions({
      connection: o.connection,
      // A device ThingsBoard refused is announced again only when its backoff is over.
      devices: () => {
        const p = this.#parking;
        return p ? o.devices().filter((d) => !p.isParked(d.name) || p.isRetrying(d.name)) : o.devices();
      },
      keepaliveIdleMs: o.keepaliveIdleMs,
      sendKeepalive: (device, now) => this.#buffer.attributes(device, { gatewayKeepalive: now }),
      onAnnounced: (device) => {
        this.stats.announces++;
        if (this.#parking?.isParked(device)) {
          this.#parking.accepted(device);
          this.sender.kick();
        }
      },
      reserve: (topic, payload) => this.sender.reserve(topic, payload),
      onRefused: (device, err) => {
        this.sender.forgetDevice(device);
        // A connect is refused with 0x97 only for the device limit, and the connection stays
        // (processOnConnect -> processFailure): park the device.
        if (err instanceof PublishError && err.reasonCode === 0x97 && this.#parking) return this.#parking.park(device);
        // A retry that failed otherwise (a lost connection, a transport error) is scheduled again.
        if (this.#parking?.isParked(device)) this.#parking.park(device);
        this.#o.log.warn(`announcing ${device} failed: ${(err as Error).message}`);
      },
    });
  }

  get rpcAdmission(): RpcAdmission {
    return this.#refusals.admission;
  }
  /** Values refused because they could never fit in one message (issue 12). */
  get unsendableValues(): number {
    return this.#buffer.unsendable;
  }
  get busyReplies(): BusyReplies {
    return this.#refusals.busyReplies;
  }

  get sessionLimits(): SessionLimits | null {
    return this.#limits;
  }

  get connected(): boolean {
    return this.#o.connection.connected;
  }

  /** Called once the devices are announced and the outbox drains, after every (re)connect. */
  onReady(cb: () => void): void {
    this.#readyListeners.add(cb);
  }

  start(): void {
    // Messages parked before a restart go back to the queue: their devices are tried again.
    const restored = this.#parking?.restore() ?? 0;
    if (restored) this.#o.log.info(`${restored} message(s) held for refused devices are back in the queue`);
    const { bus, connection } = this.#o;
    const deleted = this.#o.isDeleted ?? (() => false);
    bus.on(this, "telemetry", (device, record) => {
      if (deleted(device)) return;
      this.#subSessions.noteSent(device);
      this.#buffer.telemetry(device, record);
    });
    bus.on(this, "clientAttributes", (device, values) => {
      if (deleted(device)) return;
      this.#subSessions.noteSent(device);
      this.#buffer.attributes(device, values);
    });
    const applyNames = () =>
      this.sender.setRenames(
        this.#o.renames?.() ?? new Map(),
        deleted,
        () => this.#o.anyDeleted?.() ?? this.#o.isDeleted !== undefined,
      );
    bus.on(this, "devicesChanged", () => {
      applyNames();
      detach("announcing new devices", this.#subSessions.announceNew(), this.#o.log);
    });
    applyNames();
    connection.onMessage((topic, payload) => this.#onMessage(topic, payload));
    connection.onOversize((p) => this.#refusals.oversize(p));
    connection.onConnected(() => detach("session start", this.#onConnected(), this.#o.log));
    connection.onDisconnected(() => this.#onDisconnected());
    this.#flushTimer = setInterval(() => this.flush(), this.#o.flushIntervalMs);
    this.#subSessions.startKeepalive();
  }

  /** Stop accepting readings and move everything buffered into the outbox. */
  stop(): void {
    this.#o.bus.removeListeners(this);
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    this.#subSessions.stopKeepalive();
    this.#parking?.stop();
    this.#flushTimer = null;
    this.flush();
    this.sender.pause();
    this.#pending.failAll("bridge stopped");
  }

  /** Request attributes of a sub-device; rejects when not connected or on timeout. */
  requestAttributes(
    device: string,
    keys: string[],
    client: boolean,
    form?: "key" | "keys",
  ): Promise<Record<string, unknown>> {
    // ThingsBoard would create the device for the request (implicit connect, §4.0).
    if (this.#o.isDeleted?.(device)) return Promise.reject(new Error(`${device} was deleted in ThingsBoard`));
    return this.#pending.attributes(device, keys, client, form);
  }

  /** Client-side RPC of the gateway device itself. */
  clientRpc(method: string, params: unknown, timeoutMs?: number): Promise<unknown> {
    return this.#pending.clientRpc(method, params, timeoutMs);
  }

  /** The gateway's own attributes. */
  requestOwnAttributes(clientKeys: string[], sharedKeys: string[]): Promise<unknown> {
    return this.#pending.ownAttributes(clientKeys, sharedKeys);
  }

  /** Telemetry of the gateway device itself (statistics, remote logs). */
  ownTelemetry(record: TsRecord): void {
    this.#buffer.ownTelemetry(record);
  }

  /** Claim devices (v1/gateway/claim); goes straight out, it means nothing later. */
  async claim(entries: Record<string, { secretKey?: string; durationMs?: number }>): Promise<void> {
    await this.#publishPaced(TOPIC.gwClaim, encodeOutbound(TOPIC.gwClaim, entries));
  }

  /** Tell ThingsBoard a device is gone from this gateway. */
  async disconnectDevice(name: string): Promise<void> {
    this.#subSessions.forget(name);
    if (this.#o.connection.connected)
      await this.#publishPaced(TOPIC.gwDisconnect, encodeOutbound(TOPIC.gwDisconnect, { device: name }));
    this.sender.forgetDevice(name);
  }

  /** Move buffered readings into the outbox as few, size-bounded messages. */
  flush(): void {
    const out = this.#buffer.drain();
    if (out.length === 0) return;
    for (const m of out) {
      this.#o.outbox.enqueue(m.topic, m.payload, m.points);
      this.stats.pointsQueued += m.points;
    }
    this.sender.kick();
  }

  /** Devices ThingsBoard refused for the device limit, with their held messages. */
  get parked(): ParkedDevice[] {
    return this.#parking?.list() ?? [];
  }

  #onParkedChanged(list: ParkedDevice[]): void {
    this.#o.onParked?.(list);
    // Shown in ThingsBoard too, on the gateway device: which devices wait and how much is held.
    // Sent when the set changes, and counts at most once a minute (each send costs tokens).
    const names = list
      .map((p) => p.device)
      .sort()
      .join("\n");
    const now = Date.now();
    if (names === this.#parkedNames && now - this.#parkedAttrAt < 60_000) return;
    this.#parkedNames = names;
    this.#parkedAttrAt = now;
    const summary = Object.fromEntries(
      list.map((p) => [p.device, { messages: p.messages, points: p.points, retryAt: p.retryAt }]),
    );
    this.#buffer.attributes("", { parkedDevices: JSON.stringify(summary), parkedDeviceCount: list.length });
  }

  #senderLimits(): SenderLimits {
    return senderLimitsFor(this.#limits, this.#o.maxInflight, this.#o.configRateLimits);
  }

  async #onConnected(): Promise<void> {
    const session = this.#subSessions.newSession();
    // The limits first: the announces that follow are paced by them (a re-announce of 200
    // devices is 400 messages in ThingsBoard's count).
    this.sender.noReasonCodes = this.#o.connection.mqttVersion !== 5;
    await this.#fetchSessionLimits();
    if (session !== this.#subSessions.session || !this.#o.connection.connected) return;
    await this.#subSessions.announceNew();
    if (session !== this.#subSessions.session || !this.#o.connection.connected) return;
    this.sender.resume();
    for (const cb of this.#readyListeners) {
      try {
        cb();
      } catch (err) {
        this.#o.log.error(`ready listener failed: ${(err as Error).message}`);
      }
    }
  }

  #onDisconnected(): void {
    this.#subSessions.newSession();
    // Their answers could not be delivered any more; ThingsBoard re-sends what it still wants.
    this.#refusals.connectionLost();
    this.sender.pause();
    this.#pending.failAll("connection lost");
  }

  async #fetchSessionLimits(): Promise<void> {
    try {
      const reply = await this.#pending.clientRpc(
        "getSessionLimits",
        { timeout: 5000 },
        this.#o.sessionLimitsTimeoutMs ?? 5000,
      );
      const limits = parseSessionLimits(reply);
      if (!limits) {
        this.#o.log.warn("getSessionLimits answered without limits; keeping configured ones");
        return;
      }
      this.#limits = limits;
      // The Python SDK keeps 20 % headroom below the server's payload limit; so do we.
      this.#buffer.builder.maxBytes = Math.min(this.#o.maxPayloadBytes, Math.floor(limits.maxPayloadSize * 0.8));
      this.sender.setLimits(this.#senderLimits());
      this.#buffer.builder.maxPoints = this.sender.maxPoints;
      this.#buffer.builder.maxEntries = this.sender.maxEntries;
      this.#o.log.info("session limits applied", {
        maxPayloadSize: limits.maxPayloadSize,
        maxInflight: limits.maxInflightMessages,
        gatewayRateLimits: limits.gatewayRateLimits,
      });
    } catch (err) {
      this.#o.log.warn(`getSessionLimits: ${(err as Error).message}; keeping configured limits`);
    }
  }

  #onMessage(topic: string, payload: Buffer): void {
    this.stats.messagesReceived++;
    // Our own publishes echoed by a plain broker (Mosquitto in tests) are not server messages.
    if (this.#echoes.isEcho(topic, payload)) {
      this.stats.echoes++;
      return;
    }
    if (isOtaTopic(topic)) return;
    const r = parseInbound(topic, payload);
    if (!r.ok) {
      this.stats.malformed++;
      this.#o.log.warn(`ignored a malformed server message: ${r.error}`, { topic, bytes: payload.length });
      return;
    }
    const m = r.value;
    switch (m.kind) {
      case "gwRpc": {
        const req = m.msg;
        this.#refusals.deviceRpc(req, () => this.#handleRpc(req));
        return;
      }
      case "gwAttributeUpdate":
        this.stats.attributeUpdates++;
        this.#o.bus.emit("sharedAttributes", m.msg.device, m.msg.data, m.msg.deleted ?? []);
        return;
      case "gwAttributeResponse":
        if (!this.#pending.resolveAttributes(m.msg))
          this.#o.log.debug(() => `unmatched attribute response ${m.msg.device}/${m.msg.id}`);
        return;
      case "gwDisconnect":
        // v5 only: the server dropped a sub-session (150 = rate limit). Re-announce it.
        this.#o.log.warn(`ThingsBoard disconnected device ${m.msg.device} (reason ${m.msg.reason})`);
        this.#subSessions.forget(m.msg.device);
        this.sender.forgetDevice(m.msg.device);
        detach("re-announcing devices", this.#subSessions.announceNew(), this.#o.log);
        return;
      case "meRpcRequest": {
        const req = m.msg;
        this.#refusals.ownRpc(req.requestId, () => this.#handleOwnRpc(req));
        return;
      }
      case "meAttributeUpdate":
        this.#o.onGatewayAttributes?.(m.msg.data, m.msg.deleted ?? []);
        return;
      case "meAttributeResponse":
        this.#pending.resolveOwn(m.msg.requestId, { client: m.msg.client, shared: m.msg.shared });
        return;
      case "meRpcResponse":
        this.#pending.resolveOwn(m.msg.requestId, m.msg.payload);
        return;
      case "provisionResponse":
        return;
    }
  }

  /** Publishes that bypass the outbox and must go now (RPC replies) still count against the server's rate limits. */
  #publishDirect(topic: string, payload: string): Promise<void> {
    this.sender.noteDirect(topic, payload);
    return this.#o.connection.publish(topic, payload);
  }

  /** Publishes that bypass the outbox but can wait for room in the server's buckets. */
  async #publishPaced(topic: string, payload: string): Promise<void> {
    await this.sender.reserve(topic, payload);
    return this.#o.connection.publish(topic, payload);
  }

  #publish(topic: string, payload: string): Promise<void> {
    this.#echoes.sent(topic, payload);
    return this.#o.connection.publish(topic, payload);
  }

  async #handleRpc(req: GwRpcRequest): Promise<void> {
    this.stats.rpcReceived++;
    const call = () =>
      this.#o.rpc.dispatch({ device: req.device, method: req.method, params: req.params, source: "thingsboard" });
    const body = (data: unknown) => encodeOutbound(TOPIC.gwRpc, { device: req.device, id: req.id, data });
    if (
      await answerRpc(
        `RPC ${req.device}/${req.id}`,
        call,
        TOPIC.gwRpc,
        body,
        (t, p) => this.#publishDirect(t, p),
        this.#o.log,
      )
    )
      this.stats.rpcAnswered++;
  }

  async #handleOwnRpc(req: MeRpcRequest): Promise<void> {
    const handler = this.#o.gatewayRpc;
    const call = async (): Promise<RpcReply> =>
      handler
        ? handler(req.method, req.params)
        : { ok: false, data: { success: false, error: `unknown method ${req.method}` } };
    await answerRpc(
      `gateway RPC ${req.requestId}`,
      call,
      `${TOPIC.meRpcResponsePrefix}${req.requestId}`,
      (data) => encodeOutbound(TOPIC.meRpcResponsePrefix, data),
      (t, p) => this.#publishDirect(t, p),
      this.#o.log,
    );
  }
}
