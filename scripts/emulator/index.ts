// ThingsBoard emulator: the server's MQTT transport (device and gateway APIs) and a small REST
// API, for the appliance's demo mode, the bridge's tests and the benchmarks. It plays
// ThingsBoard as described in shared/reference/thingsboard-server-behaviour.md §7; it is not a
// pub/sub broker.
import type { EventEmitter } from "node:events";
import type http from "node:http";
import { silentEmulatorLog, type EmulatorLog } from "./log.ts";
import { EmulatorCore } from "./core.ts";
import { MqttListener, type TlsFiles } from "./listener.ts";
import type { EmulatedDevice } from "./model.ts";
import { LimitSet, type RateLimitSpec } from "./rateLimits.ts";
import { createRestApp, startRest } from "./rest.ts";
import { rpcHttpResult } from "./rpc.ts";
import type { EmulatorStats } from "./session.ts";

export type { EmulatedDevice } from "./model.ts";
export type { SessionInfo } from "./core.ts";

export interface EmulatorOptions {
  host?: string;
  mqttPort?: number;
  /** null/false = no HTTP. */
  httpPort?: number | null | false;
  /** Credentials that authenticate as a GATEWAY device (additionalInfo.gateway=true). */
  gateways?: Array<{
    name: string;
    accessToken?: string;
    clientId?: string;
    username?: string;
    password?: string;
    overwriteActivityTime?: boolean;
  }>;
  /** Plain (non-gateway) devices with tokens. */
  devices?: Array<{ name: string; accessToken: string }>;
  provision?: { key: string; secret: string };
  maxPayloadSize?: number;
  rpcTimeoutMs?: number;
  /** REST RPC timeouts below this are raised to it, as ThingsBoard does (default 5000). */
  minRpcTimeoutMs?: number;
  clientRpcTimeoutMs?: number;
  rateLimits?: RateLimitSpec;
  gatewayRateLimits?: RateLimitSpec;
  /** The tenant's own transport limits (transportTenant*), shared by every session. */
  tenantRateLimits?: RateLimitSpec;
  enforceRateLimits?: boolean;
  /** Tenant profile maxDevices: a new device beyond it is refused (0 / undefined = unlimited). */
  maxDevices?: number;
  /** How long a name refused for the device limit stays refused (ThingsBoard: about 5 min). */
  deviceLimitCacheMs?: number;
  /** Sub-device session inactivity timeout (transport.sessions.inactivity_timeout, 600 s). */
  sessionInactivityTimeoutMs?: number;
  /** How often sessions are checked for inactivity (transport.sessions.report_timeout, 3 s). */
  sessionReportTimeoutMs?: number;
  maxInflightMessages?: number;
  restUser?: { username: string; password: string };
  /** Serve MQTT over TLS with this certificate and key. */
  tls?: TlsFiles;
  /** Provision sessions are closed this long after connecting (ThingsBoard: 60 s after the answer). */
  provisionCloseMs?: number;
  log?: EmulatorLog;
}

export interface RpcResult {
  status: number;
  /** null when ThingsBoard answers with an empty body (errors, one-way). */
  body: unknown;
}

export interface Emulator {
  readonly mqttPort: number;
  readonly httpPort: number | null;
  readonly events: EventEmitter;
  stop(): Promise<void>;
  dropConnections(): void;
  pause(): Promise<void>;
  resume(): Promise<void>;
  device(name: string): EmulatedDevice | undefined;
  devices(): EmulatedDevice[];
  telemetry(name: string, key?: string): Array<{ ts: number; values: Record<string, unknown> }>;
  latest(name: string): Record<string, { ts: number; value: unknown }>;
  clientAttributes(name: string): Record<string, unknown>;
  setShared(name: string, data: Record<string, unknown>): void;
  deleteShared(name: string, keys: string[]): void;
  rpc(
    name: string,
    method: string,
    params: unknown,
    opts?: { twoWay?: boolean; timeoutMs?: number },
  ): Promise<RpcResult>;
  gatewayRpc(
    gatewayName: string,
    method: string,
    params: unknown,
    opts?: { twoWay?: boolean; timeoutMs?: number },
  ): Promise<RpcResult>;
  renameDevice(oldName: string, newName: string): void;
  deleteDevice(name: string): void;
  readonly stats: EmulatorStats;
}

/** Lifetime of the server-generated rename/delete notices (persistent RPC, 1-day expiry, §3.5). */
const NOTICE_EXPIRY_MS = 86_400_000;

function validateOptions(o: EmulatorOptions): void {
  const positives = {
    maxPayloadSize: o.maxPayloadSize,
    rpcTimeoutMs: o.rpcTimeoutMs,
    clientRpcTimeoutMs: o.clientRpcTimeoutMs,
    deviceLimitCacheMs: o.deviceLimitCacheMs,
    sessionInactivityTimeoutMs: o.sessionInactivityTimeoutMs,
    sessionReportTimeoutMs: o.sessionReportTimeoutMs,
  };
  if (o.maxDevices !== undefined && !(Number.isInteger(o.maxDevices) && o.maxDevices >= 0))
    throw new Error(`Invalid maxDevices ${String(o.maxDevices)}: expected an integer >= 0`);
  for (const [k, v] of Object.entries(positives)) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0))
      throw new Error(`Invalid ${k} ${String(v)}: expected a positive number`);
  }
  // Parse the limit strings now so a typo fails at start, not at the first message.
  new LimitSet(o.rateLimits);
  new LimitSet(o.gatewayRateLimits);
  new LimitSet(o.tenantRateLimits);
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  validateOptions(opts);
  const log = opts.log ?? silentEmulatorLog();
  const host = opts.host ?? "127.0.0.1";
  const core = new EmulatorCore(
    {
      maxPayloadSize: opts.maxPayloadSize ?? 65536,
      clientRpcTimeoutMs: opts.clientRpcTimeoutMs ?? 60_000,
      maxInflightMessages: opts.maxInflightMessages ?? 100,
      ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
      ...(opts.gatewayRateLimits ? { gatewayRateLimits: opts.gatewayRateLimits } : {}),
      ...(opts.tenantRateLimits ? { tenantRateLimits: opts.tenantRateLimits } : {}),
      enforceRateLimits: opts.enforceRateLimits ?? false,
      maxDevices: opts.maxDevices ?? 0,
      // 5 minutes less a random part of up to 10 % (DefaultEntityLimitsCache DEVIATION).
      deviceLimitCacheMs: opts.deviceLimitCacheMs ?? Math.round(300_000 * (0.9 + 0.1 * Math.random())),
      sessionInactivityTimeoutMs: opts.sessionInactivityTimeoutMs ?? 600_000,
      sessionReportTimeoutMs: opts.sessionReportTimeoutMs ?? 3_000,
      ...(opts.provision ? { provision: opts.provision } : {}),
      provisionCloseMs: opts.provisionCloseMs ?? 60_000,
    },
    log,
  );
  for (const g of opts.gateways ?? []) {
    const dev = core.store.create(g.name, "gateway", true);
    if (g.overwriteActivityTime) dev.overwriteActivityTime = true;
    if (g.accessToken) core.store.addToken(dev.id, g.accessToken);
    if (g.clientId || g.username) {
      const creds: { clientId?: string; username?: string; password?: string } = {};
      if (g.clientId) creds.clientId = g.clientId;
      if (g.username) creds.username = g.username;
      if (g.password) creds.password = g.password;
      core.store.addBasic(dev.id, creds);
    }
  }
  for (const d of opts.devices ?? []) core.store.addToken(core.store.create(d.name).id, d.accessToken);

  const listener = new MqttListener(core, host, log, opts.tls);
  await listener.listen(opts.mqttPort ?? 0);

  let httpServer: http.Server | undefined;
  const httpPortOpt = opts.httpPort ?? 0;
  if (httpPortOpt !== null && httpPortOpt !== false) {
    const app = createRestApp(core, {
      user: opts.restUser ?? { username: "tenant@thingsboard.org", password: "tenant" },
      rpcTimeoutMs: opts.rpcTimeoutMs ?? 10_000,
      minRpcTimeoutMs: opts.minRpcTimeoutMs ?? 5_000,
    });
    try {
      httpServer = await startRest(app, host, httpPortOpt);
    } catch (err) {
      await listener.close();
      throw err;
    }
  }
  const httpAddr = httpServer?.address();
  const httpPort = typeof httpAddr === "object" && httpAddr ? httpAddr.port : null;

  const must = (name: string): EmulatedDevice => {
    const d = core.store.byDeviceName(name);
    if (!d) throw new Error(`Unknown device '${name}'`);
    return d;
  };
  const rpc = async (
    name: string,
    method: string,
    params: unknown,
    o?: { twoWay?: boolean; timeoutMs?: number },
  ): Promise<RpcResult> => {
    const d = core.store.byDeviceName(name);
    if (!d) return { status: 404, body: { status: 404, message: `Device '${name}' not found`, errorCode: 32 } };
    const outcome = await core.rpc.submit(
      d.id,
      method,
      params,
      o?.twoWay ?? true,
      o?.timeoutMs ?? opts.rpcTimeoutMs ?? 10_000,
    );
    const r = rpcHttpResult(outcome, "v1");
    return { status: r.status, body: "body" in r ? r.body : null };
  };
  /** Persistent one-way notice to the gateway that last connected the device (§3.5, GNS). */
  const notifyGateway = (d: EmulatedDevice, method: string, params: unknown): void => {
    if (!d.lastConnectedGateway) return;
    core.rpc.submit(d.lastConnectedGateway, method, params, false, NOTICE_EXPIRY_MS).catch((err: unknown) => {
      log.error(`notice ${method} to ${d.lastConnectedGateway ?? "?"} failed: ${String(err)}`);
    });
  };

  let stopped = false;
  return {
    get mqttPort() {
      return listener.port;
    },
    httpPort,
    events: core.events,
    stats: core.stats,
    async stop() {
      if (stopped) return;
      stopped = true;
      core.rpc.stop();
      core.stop();
      await listener.close();
      if (httpServer) {
        const srv = httpServer;
        srv.closeAllConnections();
        await new Promise<void>((resolve) => srv.close(() => resolve()));
      }
    },
    dropConnections: () => listener.dropConnections(),
    pause: () => listener.close(),
    resume: () => listener.resume(),
    device: (name) => core.store.byDeviceName(name),
    devices: () => core.store.list(),
    telemetry(name, key) {
      const d = core.store.byDeviceName(name);
      if (!d) return [];
      const all = core.store.telemetry(d.id);
      if (key === undefined) return all.map((r) => ({ ts: r.ts, values: { ...r.values } }));
      return all.filter((r) => key in r.values).map((r) => ({ ts: r.ts, values: { [key]: r.values[key] } }));
    },
    latest(name) {
      const d = core.store.byDeviceName(name);
      return d ? Object.fromEntries([...core.store.latest(d.id)].map(([k, e]) => [k, { ...e }])) : {};
    },
    clientAttributes(name) {
      const d = core.store.byDeviceName(name);
      return d
        ? Object.fromEntries([...core.store.attributes(d.id, "CLIENT_SCOPE")].map(([k, e]) => [k, e.value]))
        : {};
    },
    setShared: (name, data) => core.saveShared(must(name), data),
    deleteShared: (name, keys) => core.deleteShared(must(name), keys),
    rpc,
    gatewayRpc: (gatewayName, method, params, o) => rpc(gatewayName, method, params, o),
    renameDevice(oldName, newName) {
      const d = core.store.rename(oldName, newName);
      notifyGateway(d, "gateway_device_renamed", { [oldName]: newName });
    },
    deleteDevice(name) {
      const d = must(name);
      core.forgetDevice(d);
      core.store.delete(name);
      notifyGateway(d, "gateway_device_deleted", name);
    },
  };
}
