// The emulated server behind every MQTT session: who is connected where, sub-sessions of
// gateways, RPC delivery, shared-attribute pushes and the rate limiters. Transport (listener)
// and REST sit on top; topic handlers live in gatewayHandlers.ts, deviceHandlers.ts and
// provision.ts.
import { EventEmitter } from "node:events";
import type { IPublishPacket } from "mqtt-packet";
import type { Logger } from "../../server/util/logger.ts";
import { decideConnect, type ConnectCredentials, type ConnectDecision } from "./auth.ts";
import { handleDevicePublish } from "./deviceHandlers.ts";
import { handleGatewayPublish } from "./gatewayHandlers.ts";
import { DeviceStore, type EmulatedDevice } from "./model.ts";
import { handleProvisionPublish, type ProvisionConfig } from "./provision.ts";
import { LimitSet, type RateLimitSpec } from "./rateLimits.ts";
import { RpcManager, type RpcRequest } from "./rpc.ts";
import { DISCONNECT, type EmulatorStats, type MqttSession, type SessionHost } from "./session.ts";
import type { FilterKind } from "./subscriptions.ts";

export interface CoreConfig {
  maxPayloadSize: number;
  clientRpcTimeoutMs: number;
  maxInflightMessages: number;
  rateLimits?: RateLimitSpec;
  gatewayRateLimits?: RateLimitSpec;
  enforceRateLimits: boolean;
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

export class EmulatorCore implements SessionHost {
  readonly events = new EventEmitter();
  readonly store = new DeviceStore();
  readonly stats: EmulatorStats = { connectsAccepted: 0, connectsRefused: 0, publishesIn: 0, pubacksSent: 0, malformed: 0, closedForError: 0 };
  readonly sessions = new Set<MqttSession>();
  readonly rpc: RpcManager;
  /** Sessions authenticated as a device (the device API's "me"), by device id. */
  private readonly direct = new Map<string, MqttSession>();
  /** Where each sub-device is connected now: at most one gateway session (max_concurrent_sessions_per_device = 1). */
  private readonly subOwner = new Map<string, MqttSession>();
  private readonly ownLimits = new Map<string, LimitSet>();
  private readonly subLimits = new Map<string, LimitSet>();

  constructor(readonly config: CoreConfig, readonly log: Logger) {
    this.rpc = new RpcManager((r) => this.deliverRpc(r));
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
      sessionId: s.id, gateway: s.gateway, provision: s.kind === "provision", clientId: s.clientId,
      protocolVersion: s.version, remote: s.remoteAddress,
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
    this.log.info(`${s.gateway ? "gateway" : s.kind === "provision" ? "provisioning client" : "device"} ${s.device?.name ? `"${s.device.name}" ` : ""}connected (MQTT ${s.version === 5 ? "5" : "3.1.1"})`);
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
   * Explicit or implicit connect of a sub-device on a gateway session (§4.0/§4.1): reuse this
   * session's sub-session, else find the device by name or create it, then make this session the
   * one that receives its RPCs and shared attributes, and push pending RPCs.
   */
  connectSubDevice(s: MqttSession, name: string, type = "default"): EmulatedDevice {
    const knownId = s.subDevices.get(name);
    const known = knownId ? this.store.byDeviceId(knownId) : undefined;
    if (known && this.subOwner.get(known.id) === s) return known;
    const { device, created } = this.store.getOrCreate(name, type);
    // Info level: in the demo this is how a user sees the appliance's devices arrive.
    if (created) this.log.info(`device created: "${name}" (type ${type})`);
    if (this.subOwner.get(device.id) !== s) this.log.info(`device connected through gateway ${s.device?.name ?? "?"}: "${name}"`);
    if (s.device) device.lastConnectedGateway = s.device.id;
    s.subDevices.set(name, device.id);
    this.subOwner.set(device.id, s);
    this.rpc.flush(device.id);
    return device;
  }

  disconnectSubDevice(s: MqttSession, name: string): void {
    const id = s.subDevices.get(name);
    if (id === undefined) return;
    s.subDevices.delete(name);
    if (this.subOwner.get(id) === s) this.subOwner.delete(id);
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
      if (name !== undefined) gw.subDevices.delete(name);
      this.subOwner.delete(device.id);
    }
    this.direct.get(device.id)?.close(DISCONNECT.administrativeAction, false);
    this.rpc.dropDevice(device.id);
  }

  isConnected(deviceId: string): boolean {
    return this.direct.has(deviceId) || this.subOwner.has(deviceId);
  }

  /** Rate-limit check for the gateway's (or a device's) own traffic; true when allowed. */
  allowOwn(s: MqttSession, isTelemetry: boolean, points: number): boolean {
    if (!this.config.enforceRateLimits || !s.device) return true;
    let l = this.ownLimits.get(s.device.id);
    if (!l) this.ownLimits.set(s.device.id, (l = new LimitSet(this.config.rateLimits)));
    return l.allow(isTelemetry, points);
  }

  /** Rate-limit check for sub-device traffic, shared by all sub-devices of one gateway (§3.6). */
  allowSub(s: MqttSession, isTelemetry: boolean, points: number): boolean {
    if (!this.config.enforceRateLimits || !s.device) return true;
    let l = this.subLimits.get(s.device.id);
    if (!l) this.subLimits.set(s.device.id, (l = new LimitSet(this.config.gatewayRateLimits)));
    return l.allow(isTelemetry, points);
  }

  /** Server-side drop of every MQTT connection. */
  dropAll(): void {
    for (const s of [...this.sessions]) s.destroy();
  }
}
