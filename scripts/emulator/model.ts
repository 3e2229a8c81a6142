// The emulated tenant: devices, their credentials, telemetry, attributes and claims.
// Pure in-memory state with no transport knowledge; sessions and REST read and write it.
// Facts from shared/reference/thingsboard-server-behaviour.md §1.1 (credentials), §4.0
// (device lookup by exact, case-sensitive name within the tenant) and §3.7 (claims).
import { randomBytes, randomUUID } from "node:crypto";

export interface EmulatedDevice {
  id: string;
  name: string;
  type: string;
  gateway: boolean;
  /** additionalInfo.overwriteActivityTime: sub-devices share the gateway's activity (read at connect). */
  overwriteActivityTime?: boolean;
  createdAt: number;
  /** Id of the gateway device that last connected this device (additionalInfo.lastConnectedGateway). */
  lastConnectedGateway?: string;
  claim?: { secretKey: string; durationMs: number; at: number };
  /** Assigned OTA packages (Device.firmwareId / softwareId). */
  firmwareId?: string;
  softwareId?: string;
}

export interface TelemetryRecord {
  ts: number;
  values: Record<string, unknown>;
}

export type AttributeScope = "CLIENT_SCOPE" | "SHARED_SCOPE" | "SERVER_SCOPE";
export const ATTRIBUTE_SCOPES: readonly AttributeScope[] = ["CLIENT_SCOPE", "SHARED_SCOPE", "SERVER_SCOPE"];

export interface AttributeEntry {
  value: unknown;
  lastUpdateTs: number;
}

/** MQTT_BASIC credentials; a field left undefined is not part of the match (§1.1). */
export interface BasicCredentials {
  clientId?: string;
  username?: string;
  password?: string;
}

interface DeviceData {
  telemetry: TelemetryRecord[];
  latest: Map<string, { ts: number; value: unknown }>;
  attributes: Record<AttributeScope, Map<string, AttributeEntry>>;
}

/** ThingsBoard's default claim duration (security.claim.duration, §3.7). */
export const DEFAULT_CLAIM_DURATION_MS = 86_400_000;

export class DeviceStore {
  private readonly byId = new Map<string, EmulatedDevice>();
  private readonly byName = new Map<string, EmulatedDevice>();
  private readonly data = new Map<string, DeviceData>();
  private readonly tokens = new Map<string, string>();
  private readonly basic: Array<BasicCredentials & { deviceId: string }> = [];

  constructor(private readonly now: () => number = Date.now) {}

  create(name: string, type = "default", gateway = false): EmulatedDevice {
    if (name.length === 0) throw new Error("Device name must not be empty");
    if (this.byName.has(name)) throw new Error(`Device '${name}' already exists`);
    const dev: EmulatedDevice = { id: randomUUID(), name, type, gateway, createdAt: this.now() };
    this.byId.set(dev.id, dev);
    this.byName.set(name, dev);
    this.data.set(dev.id, {
      telemetry: [],
      latest: new Map(),
      attributes: { CLIENT_SCOPE: new Map(), SHARED_SCOPE: new Map(), SERVER_SCOPE: new Map() },
    });
    return dev;
  }

  getOrCreate(name: string, type = "default"): { device: EmulatedDevice; created: boolean } {
    const found = this.byName.get(name);
    if (found) return { device: found, created: false };
    return { device: this.create(name, type), created: true };
  }

  byDeviceName(name: string): EmulatedDevice | undefined {
    return this.byName.get(name);
  }

  byDeviceId(id: string): EmulatedDevice | undefined {
    return this.byId.get(id);
  }

  list(): EmulatedDevice[] {
    return [...this.byId.values()];
  }

  rename(oldName: string, newName: string): EmulatedDevice {
    const dev = this.byName.get(oldName);
    if (!dev) throw new Error(`Device '${oldName}' not found`);
    if (this.byName.has(newName)) throw new Error(`Device '${newName}' already exists`);
    this.byName.delete(oldName);
    dev.name = newName;
    this.byName.set(newName, dev);
    return dev;
  }

  delete(name: string): EmulatedDevice | undefined {
    const dev = this.byName.get(name);
    if (!dev) return undefined;
    this.byName.delete(name);
    this.byId.delete(dev.id);
    this.data.delete(dev.id);
    for (const [tok, id] of this.tokens) if (id === dev.id) this.tokens.delete(tok);
    for (let i = this.basic.length - 1; i >= 0; i--) if (this.basic[i]?.deviceId === dev.id) this.basic.splice(i, 1);
    return dev;
  }

  // ---- credentials ----
  addToken(deviceId: string, token: string): void {
    if (token.length === 0) throw new Error("Access token must not be empty");
    if (this.tokens.has(token)) throw new Error(`Access token already in use`);
    this.tokens.set(token, deviceId);
  }

  hasToken(token: string): boolean {
    return this.tokens.has(token);
  }

  addBasic(deviceId: string, creds: BasicCredentials): void {
    if (!creds.clientId && !creds.username) throw new Error("MQTT basic credentials need a clientId or a username");
    this.basic.push({ ...creds, deviceId });
  }

  /** Generates an unused access token (20 alphanumerics, like ThingsBoard's generator). */
  newToken(): string {
    for (;;) {
      const t = randomBytes(15).toString("base64url").replace(/[-_]/g, "x").slice(0, 20);
      if (!this.tokens.has(t)) return t;
    }
  }

  /**
   * Resolves CONNECT credentials the way DefaultTransportApiService.validateCredentials does
   * (§1.1): clientId-only basic creds, then clientId|username basic creds (a wrong password is
   * final), then the raw username as an access token (password and clientId ignored) or as
   * username-only basic creds.
   */
  authenticate(
    clientId: string,
    username: string | undefined,
    password: string | undefined,
  ): EmulatedDevice | undefined {
    if (!username) {
      const c = this.basic.find((b) => b.clientId === clientId && clientId !== "" && !b.username);
      return c ? this.byId.get(c.deviceId) : undefined;
    }
    const pair = this.basic.find((b) => b.clientId === clientId && b.username === username);
    if (pair) {
      if (pair.password !== undefined && pair.password !== password) return undefined;
      return this.byId.get(pair.deviceId);
    }
    const tokenOwner = this.tokens.get(username);
    if (tokenOwner) return this.byId.get(tokenOwner);
    const userOnly = this.basic.find((b) => b.username === username && !b.clientId);
    if (userOnly && (userOnly.password === undefined || userOnly.password === password)) {
      return this.byId.get(userOnly.deviceId);
    }
    return undefined;
  }

  // ---- telemetry ----
  addTelemetry(deviceId: string, records: TelemetryRecord[]): void {
    const d = this.data.get(deviceId);
    if (!d) return;
    for (const r of records) {
      d.telemetry.push(r);
      for (const [k, v] of Object.entries(r.values)) {
        const cur = d.latest.get(k);
        // ts_kv_latest keeps the newest timestamp; an older late record does not replace it.
        if (!cur || r.ts >= cur.ts) d.latest.set(k, { ts: r.ts, value: v });
      }
    }
  }

  telemetry(deviceId: string): TelemetryRecord[] {
    return this.data.get(deviceId)?.telemetry ?? [];
  }

  latest(deviceId: string): Map<string, { ts: number; value: unknown }> {
    return this.data.get(deviceId)?.latest ?? new Map();
  }

  // ---- attributes ----
  setAttributes(deviceId: string, scope: AttributeScope, kv: Record<string, unknown>): void {
    const d = this.data.get(deviceId);
    if (!d) return;
    const ts = this.now();
    for (const [k, v] of Object.entries(kv)) d.attributes[scope].set(k, { value: v, lastUpdateTs: ts });
  }

  deleteAttributes(deviceId: string, scope: AttributeScope, keys: string[]): string[] {
    const d = this.data.get(deviceId);
    if (!d) return [];
    return keys.filter((k) => d.attributes[scope].delete(k));
  }

  attributes(deviceId: string, scope: AttributeScope): Map<string, AttributeEntry> {
    return this.data.get(deviceId)?.attributes[scope] ?? new Map();
  }

  /** Client claims are cached with putIfAbsent (§3.7): the first claim wins until it expires. */
  claim(deviceId: string, secretKey: string, durationMs: number): void {
    const dev = this.byId.get(deviceId);
    if (!dev) return;
    const at = this.now();
    if (dev.claim && dev.claim.at + dev.claim.durationMs > at) return;
    dev.claim = { secretKey, durationMs: durationMs > 0 ? durationMs : DEFAULT_CLAIM_DURATION_MS, at };
  }
}
