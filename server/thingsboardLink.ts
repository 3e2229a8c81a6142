// The ThingsBoard side of the appliance, wired together: the MQTT connection (with the configured, stored or
// provisioned credentials), its status fed to the bus, the device runtime and the event log, the gateway bridge
// over it, and self-provisioning for a unit that has no credentials yet. The Controller builds it in step 4 of
// start() (ThingsBoardLink.open reads the stored credentials) and connects it last; the constructor only
// assigns: it reads no file and opens no socket.
import type { Config } from "./config/schema.ts";
import type { EventBus } from "./eventBus.ts";
import type { DeviceRuntime } from "./devices/runtime.ts";
import type { DeviceRpcDispatcher } from "./rpc/dispatcher.ts";
import { TbConnection } from "./gateway/connection.ts";
import { GatewayBridge, type BridgeOptions } from "./gateway/bridge.ts";
import { loadCredentials, type StoredCredentials } from "./gateway/provisioning.ts";
import { Provisioner } from "./features/provisioner.ts";
import type { Outbox } from "./outbox/outbox.ts";
import type { Logger } from "./util/logger.ts";

export interface ThingsBoardLinkOptions {
  bus: EventBus;
  log: Logger;
  /** The server to use (in demo mode: the embedded emulator). */
  tb: Config["thingsboard"];
  dataDir: string;
  unit: string;
  runtime: DeviceRuntime;
  rpc: DeviceRpcDispatcher;
  outbox: Outbox;
  /** Queue for the messages of devices ThingsBoard refuses (device limit). */
  parkedStore?: Outbox;
  /** RPC to the gateway device itself, and its shared attribute updates (the GatewayService, built later). */
  gatewayRpc: NonNullable<BridgeOptions["gatewayRpc"]>;
  onGatewayAttributes: NonNullable<BridgeOptions["onGatewayAttributes"]>;
  /** Provisioning failed; the provisioner tries again at nextRetryAt. */
  onProvisionFailure: (lastError: string, nextRetryAt: number) => void;
}

export class ThingsBoardLink {
  readonly connection: TbConnection;
  readonly bridge: GatewayBridge;
  readonly #o: ThingsBoardLinkOptions;
  readonly #credsFile: string;
  readonly #provision: Config["thingsboard"]["provision"];
  readonly #stored: StoredCredentials | null;
  #provisioner: Provisioner | null = null;

  /**
   * Without credentials in the config but with a provision key, the unit provisions itself, or reuses
   * what it was given before, kept in the data dir: read here (an unreadable file is moved aside).
   */
  static open(o: ThingsBoardLinkOptions): ThingsBoardLink {
    const stored = provisionFor(o.tb) ? loadCredentials(credentialsFile(o.dataDir), o.log) : null;
    if (stored) o.log.root.addSecret(stored.accessToken ?? stored.password);
    return new ThingsBoardLink(o, stored);
  }

  /** Use open(); `stored` is what a previous provisioning saved (null: none, or not provisioning). */
  constructor(o: ThingsBoardLinkOptions, stored: StoredCredentials | null) {
    this.#o = o;
    const { tb, log, bus, runtime } = o;
    this.#credsFile = credentialsFile(o.dataDir);
    this.#provision = provisionFor(tb);
    this.#stored = stored;
    this.connection = new TbConnection({ ...tb, ...(stored ? credentialFields(stored) : {}), log: log.child("mqtt") });
    let lastState = "";
    this.connection.onStatus((s) => {
      bus.emit("connection", s);
      runtime.setOnline(s.state === "connected");
      if (s.state === lastState) return;
      lastState = s.state;
      const text =
        s.state === "connected"
          ? `connected to ThingsBoard at ${s.server} (MQTT ${s.mqttVersion === 5 ? "5" : "3.1.1"})`
          : `ThingsBoard ${s.state}${s.lastError ? `: ${s.lastError}` : ""}`;
      bus.emit("eventLog", { ts: Date.now(), kind: s.state === "authFailed" ? "error" : "connection", text });
    });
    this.bridge = new GatewayBridge({
      bus,
      log: log.child("bridge"),
      connection: this.connection,
      outbox: o.outbox,
      rpc: o.rpc,
      devices: () => runtime.list().map((d) => ({ name: d.info.name, profile: d.info.profile })),
      isDeleted: (name) => runtime.isDeleted(name),
      anyDeleted: () => runtime.deletedCount > 0,
      renames: () => runtime.renames(),
      ...(o.parkedStore ? { parkedStore: o.parkedStore } : {}),
      onParked: (list) => runtime.setParked(list),
      flushIntervalMs: tb.flushIntervalMs,
      maxPayloadBytes: tb.maxPayloadBytes,
      maxInflight: tb.maxInflight,
      attributeRequestTimeoutMs: tb.attributeRequestTimeoutMs,
      configRateLimits: tb.rateLimits,
      gatewayRpc: o.gatewayRpc,
      onGatewayAttributes: o.onGatewayAttributes,
    });
  }

  /** Connects; a unit that must provision itself first does that, and connects once it has credentials. */
  connect(): void {
    const provision = this.#provision;
    if (provision && !this.#stored) {
      const { bus, tb, unit, log } = this.#o;
      this.#provisioner = new Provisioner({
        file: this.#credsFile,
        tb,
        provision,
        unit,
        log: log.child("provision"),
        onSuccess: (creds, name) => {
          bus.emit("eventLog", { ts: Date.now(), kind: "info", text: `provisioned as gateway device "${name}"` });
          this.connection.setCredentials(credentialFields(creds));
          this.connection.start();
        },
        onFailure: (lastError, nextRetryAt) => this.#o.onProvisionFailure(lastError, nextRetryAt),
      });
      this.#provisioner.start();
    } else this.connection.start();
  }

  stopProvisioning(): void {
    this.#provisioner?.stop();
  }
}

function credentialsFile(dataDir: string): string {
  return `${dataDir}/credentials.json`;
}

/** The provisioning settings, when the config gives no credentials of its own. */
function provisionFor(tb: Config["thingsboard"]): Config["thingsboard"]["provision"] {
  return !tb.accessToken && !tb.username && !tb.clientId ? tb.provision : undefined;
}

function credentialFields(c: StoredCredentials): {
  accessToken?: string;
  clientId?: string;
  username?: string;
  password?: string;
} {
  const out: { accessToken?: string; clientId?: string; username?: string; password?: string } = {};
  if (c.accessToken) out.accessToken = c.accessToken;
  if (c.clientId) out.clientId = c.clientId;
  if (c.username) out.username = c.username;
  if (c.password) out.password = c.password;
  return out;
}
