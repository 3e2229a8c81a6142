// The emulated server behind every MQTT session: who is connected where, sub-sessions of
// gateways, RPC delivery, shared-attribute pushes and the rate limiters. Transport (listener)
// and REST sit on top; topic handlers live in gatewayHandlers.ts, deviceHandlers.ts and
// provision.ts.
import { EventEmitter } from "node:events";
import type { IPublishPacket } from "mqtt-packet";
import type { EmulatorLog } from "./log.ts";
import { decideConnect, type ConnectCredentials, type ConnectDecision } from "./auth.ts";
import { handleDevicePublish } from "./deviceHandlers.ts";
import { handleGatewayPublish } from "./gatewayHandlers.ts";
import { DeviceStore, type EmulatedDevice } from "./model.ts";
import { OtaStore } from "./ota.ts";
import { handleProvisionPublish, type ProvisionConfig } from "./provision.ts";
import { LimitSet, type RateLimitSpec } from "./rateLimits.ts";
import { RpcManager, type RpcRequest } from "./rpc.ts";
import { PUBACK as PUBACK_CODE } from "./acks.ts";
import { DISCONNECT, type EmulatorStats, type MqttSession, type SessionHost } from "./session.ts";
import type { FilterKind } from "./subscriptions.ts";

export interface CoreConfig {
  maxPayloadSize: number;
  clientRpcTimeoutMs: number;
  maxInflightMessages: number;
  rateLimits?: RateLimitSpec;
  gatewayRateLimits?: RateLimitSpec;
  /** The tenant's transport limits (transportTenant*), checked first for every call. */
  tenantRateLimits?: RateLimitSpec;
  enforceRateLimits: boolean;
  /** The tenant profile's maxDevices (0 = unlimited); gateways count too, as in ThingsBoard. */
  maxDevices: number;
  /** How long a name refused for the device limit stays refused without asking again
   *  (DefaultEntityLimitsCache: cache.entityLimits.timeToLiveInMinutes = 5, minus up to 10 %). */
  deviceLimitCacheMs: number;
  /** transport.sessions.inactivity_timeout (600 s) and report_timeout (3 s): a sub-device
   *  session with no traffic for that long is dropped silently (TransportActivityManager). */
  sessionInactivityTimeoutMs: number;
  sessionReportTimeoutMs: number;
  provision?: ProvisionConfig;
  /** How long a provisioning session stays open after its answer (ThingsBoard: 60 s, §3.8). */
  provisionCloseMs: number;
}

export interface SessionInfo {
  sessionId: number;
  deviceName?: string;
  deviceId?: string;
  gateway: boolean;
  provision: boolean;
  clientId: string;
  protocolVersion: number;
  remote: string;
}

export type SubDeviceLookup = { ok: true; device: EmulatedDevice } | { ok: false; code: number; reason: string };

export class EmulatorCore implements SessionHost {
  readonly events = new EventEmitter();
  readonly store = new DeviceStore();
  readonly ota = new OtaStore();
  readonly stats: EmulatorStats = {
    connectsAccepted: 0,
    connectsRefused: 0,
    publishesIn: 0,
    pubacksSent: 0,
    malformed: 0,
    closedForError: 0,
    rateLimitBreaches: 0,
    deviceLimitRefusals: 0,
    subSessionsExpired: 0,
  };
  readonly sessions = new Set<MqttSession>();
  readonly rpc: RpcManager;
  /** Sessions authenticated as a device (the device API's "me"), by device id. */
  private readonly direct = new Map<string, MqttSession>();
  /** Where each sub-device is connected now: at most one gateway session (max_concurrent_sessions_per_device = 1). */
  private readonly subOwner = new Map<string, MqttSession>();
  private readonly ownLimits = new Map<string, LimitSet>();
  private readonly subLimits = new Map<string, LimitSet>();
  private tenantLimits: LimitSet | undefined;
  /** Names refused for the device limit, until when (EntityLimitsCache). */
  private readonly deviceLimitCache = new Map<string, number>();
  private readonly expiryTimer: NodeJS.Timeout;

  constructor(
    readonly config: CoreConfig,
    readonly log: EmulatorLog,
  ) {
    this.rpc = new RpcManager((r) => this.deliverRpc(r));
    this.expiryTimer = setInterval(() => this.expireIdleSubSessions(), config.sessionReportTimeoutMs);
    this.expiryTimer.unref();
    // Listeners of a plain EventEmitter would crash the process on an "error" event; we never emit one.
    this.events.setMaxListeners(0);
  }

  get maxPayloadSize(): number {
    return this.config.maxPayloadSize;
  }

  authenticate(c: ConnectCredentials): ConnectDecision {
    return decideConnect(this.store, c);
  }

  info(s: MqttSession): SessionInfo {
    const i: SessionInfo = {
      sessionId: s.id,
      gateway: s.gateway,
      provision: s.kind === "provision",
      clientId: s.clientId,
      protocolVersion: s.version,
      remote: s.remoteAddress,
    };
    if (s.device) {
      i.deviceName = s.device.name;
      i.deviceId = s.device.id;
    }
    return i;
  }

  onAccepted(s: MqttSession): void {
    this.sessions.add(s);
    if (s.device) {
      const older = this.direct.get(s.device.id);
      this.direct.set(s.device.id, s);
      // A newer session for the same device closes the older one with SESSION_TAKEN_OVER (§1.3).
      if (older && older !== s) older.close(DISCONNECT.sessionTakenOver, false);
    }
    if (s.kind === "provision") s.later(this.config.provisionCloseMs, () => s.close(undefined, false));
    this.log.info(
      `${s.gateway ? "gateway" : s.kind === "provision" ? "provisioning client" : "device"} ${s.device?.name ? `"${s.device.name}" ` : ""}connected (MQTT ${s.version === 5 ? "5" : "3.1.1"})`,
    );
    this.events.emit("session", this.info(s));
  }

  onClosed(s: MqttSession): void {
    this.sessions.delete(s);
    if (s.device && this.direct.get(s.device.id) === s) this.direct.delete(s.device.id);
    // The gateway's TCP close ends all its sub-sessions, silently (§4.0).
    for (const deviceId of s.subDevices.values()) if (this.subOwner.get(deviceId) === s) this.subOwner.delete(deviceId);
    this.events.emit("sessionClosed", this.info(s));
  }

  onPublish(s: MqttSession, p: IPublishPacket): void {
    const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
    this.events.emit("publish", p.topic, payload, s.id);
    if (s.kind === "provision") return handleProvisionPublish(this, s, p, payload);
    if (p.topic.startsWith("v1/gateway")) {
      if (!s.gateway) {
        // A non-gateway device gets no PUBACK at all; the server only logs it (§4.0).
        this.log.warn(`gateway topic ${p.topic} from non-gateway device ${s.device?.name ?? "?"}`);
        return;
      }
      return handleGatewayPublish(this, s, p, payload);
    }
    return handleDevicePublish(this, s, p, payload);
  }

  onSubscribed(s: MqttSession, kind: FilterKind): void {
    // The RPC subscription makes the device actor push what is pending (§3.5).
    if (kind === "rpc" && s.device) this.rpc.flush(s.device.id);
  }

  onServerPublish(s: MqttSession, topic: string, payload: Buffer): void {
    this.events.emit("serverPublish", topic, payload, s.id);
  }

  /**
   * Explicit or implicit connect of a sub-device on a gateway session (§4.0/§4.1;
   * AbstractGatewaySessionHandler.onDeviceConnect / getDeviceCreationFuture): a device already in
   * this session's map costs nothing. Otherwise the lookup (GetOrCreateDeviceFromGatewayRequestMsg)
   * takes one regular-message token (DefaultTransportService.process: checkLimits with 0 data
   * points), and fails with the tenant device limit for a new device (0x97) or for a rate limit
   * (0x80, processFailure); the connection stays open either way. Then the session-open message
   * with its attribute and RPC subscriptions takes one more token; it has no callback, so when it
   * is refused nothing is reported and the device simply gets no RPCs or attribute updates.
   */
  lookupSubDevice(s: MqttSession, name: string, type = "default"): SubDeviceLookup {
    const knownId = s.subDevices.get(name);
    const known = knownId ? this.store.byDeviceId(knownId) : undefined;
    if (known) return { ok: true, device: known };
    if (!this.charge(s, "sub", 0)) {
      this.stats.rateLimitBreaches++;
      return { ok: false, code: PUBACK_CODE.unspecified, reason: "rate limit (device lookup)" };
    }
    if (!this.store.byDeviceName(name) && this.deviceLimitReached(name)) {
      this.stats.deviceLimitRefusals++;
      this.log.info(`device "${name}" refused: Maximum number of devices reached!`);
      this.events.emit("deviceLimit", name);
      return { ok: false, code: PUBACK_CODE.quotaExceeded, reason: "Maximum number of devices reached!" };
    }
    const { device, created } = this.store.getOrCreate(name, type);
    // Info level: in the demo this is how a user sees the appliance's devices arrive.
    if (created) this.log.info(`device created: "${name}" (type ${type})`);
    this.log.info(`device connected through gateway ${s.device?.name ?? "?"}: "${name}"`);
    if (s.device) device.lastConnectedGateway = s.device.id;
    s.subDevices.set(name, device.id);
    s.subActivity.set(name, Date.now());
    const older = this.subOwner.get(device.id);
    // max_concurrent_sessions_per_device = 1: the older gateway's sub-session is dropped silently.
    if (older && older !== s) {
      const oldName = this.subName(older, device.id);
      if (oldName !== undefined) this.dropSubSession(older, oldName);
    }
    if (this.charge(s, "sub", 0)) {
      this.subOwner.set(device.id, s);
      this.rpc.flush(device.id);
    } else {
      this.stats.rateLimitBreaches++;
      this.log.debug(`session open for "${name}" refused by the rate limit; it gets no RPCs or attribute updates`);
    }
    return { ok: true, device };
  }

  /** The tenant device limit; a refusal is remembered per name (EntityLimitsCache). */
  private deviceLimitReached(name: string): boolean {
    const now = Date.now();
    const until = this.deviceLimitCache.get(name);
    if (until !== undefined && until > now) return true;
    this.deviceLimitCache.delete(name);
    if (this.config.maxDevices <= 0 || this.store.list().length < this.config.maxDevices) return false;
    this.deviceLimitCache.set(name, now + this.config.deviceLimitCacheMs);
    return true;
  }

  /** Traffic for a sub-device keeps its session alive (recordActivityInternal). */
  noteSubActivity(s: MqttSession, name: string): void {
    if (s.subDevices.has(name)) s.subActivity.set(name, Date.now());
  }

  private expireIdleSubSessions(): void {
    const oldest = Date.now() - this.config.sessionInactivityTimeoutMs;
    for (const s of this.sessions) {
      for (const [name, at] of s.subActivity) {
        // overwriteActivityTime: a sub-session's activity is raised to the gateway's own
        // (TransportActivityManager.updateState), so the gateway's pings keep them all alive.
        if (Math.max(at, s.overwriteActivityTime ? s.lastActivity : 0) >= oldest) continue;
        // Deregistered silently: the gateway is not told (AbstractGatewayDeviceSessionContext.onRemoteSessionCloseCommand).
        this.dropSubSession(s, name);
        this.stats.subSessionsExpired++;
        this.log.info(
          `sub-device session of "${name}" expired after ${this.config.sessionInactivityTimeoutMs} ms without traffic`,
        );
        this.events.emit("subSessionExpired", name);
      }
    }
  }

  private dropSubSession(s: MqttSession, name: string): void {
    const id = s.subDevices.get(name);
    s.subDevices.delete(name);
    s.subActivity.delete(name);
    if (id !== undefined && this.subOwner.get(id) === s) this.subOwner.delete(id);
  }

  /** Is the device's sub-session on this gateway session open now? */
  hasSubSession(s: MqttSession, name: string): boolean {
    return s.subDevices.has(name);
  }

  disconnectSubDevice(s: MqttSession, name: string): void {
    if (!s.subDevices.has(name)) return;
    this.dropSubSession(s, name);
    // deregisterSession sends SESSION CLOSED with no callback: it takes a token, a refusal is silent.
    this.charge(s, "sub", 0);
  }

  /** The name a gateway session uses for a device it serves (the old one after a rename, §5). */
  private subName(s: MqttSession, deviceId: string): string | undefined {
    for (const [name, id] of s.subDevices) if (id === deviceId) return name;
    return undefined;
  }

  private deliverRpc(r: RpcRequest): boolean {
    const own = this.direct.get(r.deviceId);
    if (own) {
      // The gateway's own device gets RPCs only while subscribed to v1/devices/me/rpc/request/+.
      if (!own.rpcSubscribed) return false;
      own.publish(`v1/devices/me/rpc/request/${r.id}`, { method: r.method, params: r.params });
      return true;
    }
    const gw = this.subOwner.get(r.deviceId);
    const name = gw ? this.subName(gw, r.deviceId) : undefined;
    if (!gw || name === undefined) return false;
    // Nothing in the payload tells one-way from two-way (§4.6).
    gw.publish("v1/gateway/rpc", { device: name, data: { id: r.id, method: r.method, params: r.params } });
    return true;
  }

  /** Pushes a shared-attribute update (or a deletion notice) to where the device is connected. */
  pushShared(deviceId: string, data: Record<string, unknown>): void {
    const own = this.direct.get(deviceId);
    if (own?.attributesSubscribed) own.publish("v1/devices/me/attributes", data);
    const gw = this.subOwner.get(deviceId);
    const name = gw ? this.subName(gw, deviceId) : undefined;
    if (gw && name !== undefined) gw.publish("v1/gateway/attributes", { device: name, data });
  }

  /** Stores shared attributes and pushes them where the device is connected (REST save, setShared). */
  saveShared(device: EmulatedDevice, data: Record<string, unknown>): void {
    this.store.setAttributes(device.id, "SHARED_SCOPE", data);
    this.pushShared(device.id, data);
  }

  /** Deletes shared attributes; the device sees a separate `{"deleted":[...]}` message (§3.4). */
  deleteShared(device: EmulatedDevice, keys: string[]): void {
    if (keys.length === 0) return;
    this.store.deleteAttributes(device.id, "SHARED_SCOPE", keys);
    this.pushShared(device.id, { deleted: keys });
  }

  /** The device is gone: its sub-session is deregistered silently, a direct session closes with 0x98 (§5). */
  forgetDevice(device: EmulatedDevice): void {
    const gw = this.subOwner.get(device.id);
    if (gw) {
      const name = this.subName(gw, device.id);
      if (name !== undefined) this.dropSubSession(gw, name);
      this.subOwner.delete(device.id);
    }
    this.direct.get(device.id)?.close(DISCONNECT.administrativeAction, false);
    this.rpc.dropDevice(device.id);
  }

  isConnected(deviceId: string): boolean {
    return this.direct.has(deviceId) || this.subOwner.has(deviceId);
  }

  /**
   * DefaultTransportService.checkLimits -> DefaultTransportRateLimitService.checkLimits: the
   * tenant's limits first, then the device's own limits ("own": rateLimits; for a gateway these
   * are the transportGatewayDevice* ones) or the limits shared by all sub-devices of the gateway
   * ("sub": gatewayRateLimits, transportGateway*). A token taken at one level stays taken when a
   * later level refuses. `dataPoints` > 0 charges the telemetry buckets, 0 the messages bucket.
   */
  charge(s: MqttSession, scope: "own" | "sub", dataPoints: number): boolean {
    if (!this.config.enforceRateLimits || !s.device) return true;
    if (this.config.tenantRateLimits) {
      this.tenantLimits ??= new LimitSet(this.config.tenantRateLimits);
      if (!this.tenantLimits.allow(dataPoints)) return false;
    }
    const map = scope === "own" ? this.ownLimits : this.subLimits;
    let l = map.get(s.device.id);
    if (!l)
      map.set(
        s.device.id,
        (l = new LimitSet(scope === "own" ? this.config.rateLimits : this.config.gatewayRateLimits)),
      );
    return l.allow(dataPoints);
  }

  stop(): void {
    clearInterval(this.expiryTimer);
  }

  /** Server-side drop of every MQTT connection. */
  dropAll(): void {
    for (const s of Array.from(this.sessions)) s.destroy();
  }
}
