// The gateway as a managed ThingsBoard device: service RPCs on its own RPC topic, statistics
// as its own telemetry, client attributes describing the unit, remote configuration through
// shared attributes, remote logs, and claiming (thingsboard-gateway's service RPC set, anchors A).
import { spawn } from "node:child_process";
import type { Config } from "../config/schema.ts";
import type { DeviceRuntime } from "../devices/runtime.ts";
import type { EventBus } from "../eventBus.ts";
import type { AppInfo, ConnectionStatus, I2cScanEntry, OutboxStatus } from "../events.ts";
import type { GatewayBridge } from "../gateway/bridge.ts";
import type { KernelSensorScan } from "../hardware.ts";
import type { ReadingValues } from "../readings.ts";
import type { RpcReply } from "../rpc/types.ts";
import { isObject, preview } from "../util/json.ts";
import { LEVELS, type LogLevel, type LogRecord, type LogSink, type Logger } from "../util/logger.ts";
import { createCpuSampler, cpuTemperatureC, disk, ipAddresses, memory, osInfo } from "../util/systemInfo.ts";
import { unitIdentity } from "../util/identity.ts";
import { detach } from "../util/detach.ts";
import type { DeadLetter } from "../outbox/deadLetters.ts";
import type { Feature } from "./feature.ts";

/**
 * What the service needs from the appliance, and nothing more: it used to take the whole Controller
 * (and the Controller called back into it, a cycle). The Controller builds this view of itself.
 */
export interface GatewayServiceHost {
  readonly config: Pick<Config, "gateway" | "devices" | "dataDir">;
  readonly bus: EventBus;
  readonly runtime: Pick<DeviceRuntime, "list" | "rename" | "markDeleted">;
  readonly hardwareKind: "sim" | "pi";
  appInfo(): AppInfo;
  scanI2c(): Promise<I2cScanEntry[]>;
  /** DS18B20 probes and DHT IIO devices the kernel found (issue 17); absent on hosts without it. */
  scanKernelSensors?(): Promise<KernelSensorScan>;
  outboxStatus(): OutboxStatus | null;
  connectionStatus(): ConnectionStatus | null;
  /** Messages set aside after the server kept refusing them (issue 12, outbox/deadLetters.ts). */
  readonly deadLetters: {
    readonly count: number;
    list(limit: number): DeadLetter[];
    /** Puts every dead letter back in the queue; returns how many. */
    requeue(): number;
  };
}

/** The part of the bridge the service talks through (a fake in tests). */
export interface GatewayServiceBridge extends Pick<
  GatewayBridge,
  "onReady" | "ownTelemetry" | "claim" | "disconnectDevice"
> {
  readonly sender: { readonly stats: Pick<GatewayBridge["sender"]["stats"], "acked" | "pointsAcked"> };
  readonly stats: Pick<
    GatewayBridge["stats"],
    "messagesReceived" | "rpcReceived" | "rpcRejected" | "malformed" | "oversized"
  >;
}

export interface GatewayServiceOptions {
  host: GatewayServiceHost;
  bridge: GatewayServiceBridge;
  log: Logger;
  /** Restart the process (systemd brings it back); default: stop and exit 75. */
  restart?: () => void;
}

const REMOTE_LOG_MAX = 1000;
const REMOTE_LOG_FLUSH_MS = 5000;

export class GatewayService implements Feature {
  #o: GatewayServiceOptions;
  #statsTimer: NodeJS.Timeout | null = null;
  #logTimer: NodeJS.Timeout | null = null;
  #statsPeriodSec: number;
  #remoteLevel: LogLevel | "off";
  #remoteLogs: LogRecord[] = [];
  #remoteDropped = 0;
  #lastLogTs = 0;
  #sink: LogSink = (r) => this.#onLog(r);
  #cpu = createCpuSampler();
  #pendingTimers = new Set<NodeJS.Timeout>();
  readonly #handlers: Record<string, (params: unknown) => Promise<unknown>>;

  constructor(o: GatewayServiceOptions) {
    this.#o = o;
    const cfg = o.host.config.gateway;
    this.#statsPeriodSec = cfg.statsPeriodSec;
    this.#remoteLevel = cfg.remoteLogLevel;
    this.#handlers = {
      gateway_ping: async () => ({ code: 200, resp: "pong" }),
      gateway_devices: async () => Object.fromEntries(o.host.runtime.list().map((d) => [d.info.name, d.info.profile])),
      gateway_version: async () => ({ version: o.host.appInfo().version }),
      gateway_stats: async () => this.#stats(),
      i2c_scan: async () => ({
        devices: (await o.host.scanI2c()).map((e) => ({ ...e, address: `0x${e.address.toString(16)}` })),
      }),
      sensor_scan: async () => {
        if (!o.host.scanKernelSensors) throw new Error("sensor_scan is not available on this host");
        return o.host.scanKernelSensors();
      },
      gateway_restart: async (p) => this.#schedule(p, "restart", () => (o.restart ?? defaultRestart)()),
      gateway_reboot: async (p) => {
        if (!o.host.config.gateway.allowReboot)
          throw new Error("reboot is not allowed by the config (gateway.allowReboot)");
        return this.#schedule(p, "reboot", () =>
          spawn("systemctl", ["reboot"], { stdio: "ignore", detached: true })
            .on("error", () => {})
            .unref(),
        );
      },
      // Issue 12: the messages set aside as dead letters, newest first (payloads shortened), and
      // putting them back in the queue once what made the server refuse them is fixed.
      gateway_dead_letters: async (p) => {
        const limit =
          isObject(p) && typeof p.limit === "number" && Number.isInteger(p.limit)
            ? Math.min(Math.max(p.limit, 1), 50)
            : 10;
        const dl = o.host.deadLetters;
        return {
          count: dl.count,
          deadLetters: dl.list(limit).map((d) => ({
            topic: d.topic,
            bytes: d.payload.length,
            points: d.points,
            attempts: d.attempts,
            reason: d.reason,
            queuedAt: d.ts,
            deadAt: d.deadAt,
            payload: d.payload.length > 1000 ? `${d.payload.slice(0, 1000)}…` : d.payload,
          })),
        };
      },
      gateway_dead_letters_retry: async () => {
        const requeued = o.host.deadLetters.requeue();
        o.host.bus.emit("clientAttributes", "", { deadLetters: o.host.deadLetters.count });
        return { success: true, requeued };
      },
      gateway_device_renamed: async (p) => {
        if (!isObject(p)) throw new Error("params must be {oldName: newName}");
        const done: Record<string, string> = {};
        for (const [from, to] of Object.entries(p))
          if (typeof to === "string" && to && o.host.runtime.rename(from, to)) done[from] = to;
        return { success: true, renamed: done };
      },
      gateway_device_deleted: async (p) => {
        if (typeof p !== "string" || !p) throw new Error("params must be the device name");
        const known = o.host.runtime.markDeleted(p);
        // End its sub-session too, so nothing more is routed to a device we no longer serve.
        if (known) await o.bridge.disconnectDevice(p).catch(() => {});
        return { success: known };
      },
    };
  }

  start(): void {
    this.#o.log.root.sinks.set(this.#sink, "debug");
    this.#o.bridge.onReady(() => detach("publishing the gateway's attributes", this.#publishAttributes(), this.#o.log));
    this.#restartStats();
    this.#logTimer = setInterval(() => this.#flushLogs(), REMOTE_LOG_FLUSH_MS);
    this.#logTimer.unref();
  }

  stop(): void {
    this.#o.log.root.sinks.delete(this.#sink);
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    if (this.#logTimer) clearInterval(this.#logTimer);
    for (const t of this.#pendingTimers) clearTimeout(t);
    this.#pendingTimers.clear();
  }

  async handle(method: string, params: unknown): Promise<RpcReply> {
    const h = Object.prototype.hasOwnProperty.call(this.#handlers, method) ? this.#handlers[method] : undefined;
    const bus = this.#o.host.bus;
    if (!h)
      return {
        ok: false,
        data: {
          success: false,
          error: `unknown gateway method ${preview(method, 60)} (supported: ${Object.keys(this.#handlers).join(", ")})`,
        },
      };
    try {
      const data = await h(params);
      bus.emit("eventLog", { ts: Date.now(), kind: "rpc", text: `gateway RPC ${method} -> ok` });
      return { ok: true, data };
    } catch (err) {
      bus.emit("eventLog", {
        ts: Date.now(),
        kind: "rpc",
        text: `gateway RPC ${method} failed: ${(err as Error).message}`,
        ok: false,
      });
      return { ok: false, data: { success: false, error: (err as Error).message } };
    }
  }

  /** Remote configuration: shared attributes of the gateway device. */
  applySharedAttributes(data: Record<string, unknown>, _deleted: string[]): void {
    const log = this.#o.log;
    const applied: string[] = [];
    const needRestart: string[] = [];
    for (const [k, v] of Object.entries(data)) {
      if (k === "logLevel" && typeof v === "string" && (LEVELS as readonly string[]).includes(v)) {
        log.root.level = v as LogLevel;
        applied.push(k);
      } else if (
        k === "remoteLogLevel" &&
        typeof v === "string" &&
        (v === "off" || (LEVELS as readonly string[]).includes(v))
      ) {
        this.#remoteLevel = v as LogLevel | "off";
        applied.push(k);
      } else if (k === "statsPeriodSec" && typeof v === "number" && v >= 1 && v <= 86_400) {
        this.#statsPeriodSec = v;
        this.#restartStats();
        applied.push(k);
      } else if (["thingsboard", "devices", "http", "dataDir", "hardware"].includes(k)) needRestart.push(k);
      else log.warn(`gateway shared attribute ${preview(k, 40)}=${preview(v)} is not a runtime setting; ignored`);
    }
    if (applied.length) log.info(`remote configuration applied: ${applied.join(", ")}`);
    if (needRestart.length)
      log.warn(
        `remote configuration of ${needRestart.join(", ")} needs a restart and a config file change; not applied`,
      );
    this.#o.host.bus.emit("clientAttributes", "", {
      remoteConfigApplied: applied.join(","),
      remoteConfigNeedsRestart: needRestart.join(","),
    });
  }

  /** Open the claim window for configured devices (all with a claim section when ids is empty). */
  async startClaim(ids?: string[]): Promise<{ devices: string[]; until: number }> {
    const c = this.#o.host;
    const list = c.runtime.list().filter((d) => (ids?.length ? ids.includes(d.info.id) : true));
    const entries: Record<string, { secretKey?: string; durationMs?: number }> = {};
    let duration = 0;
    for (const d of list) {
      const cfg = c.config.devices.find((x) => x.id === d.info.id)?.claim;
      if (!cfg && !ids?.length) continue;
      entries[d.info.name] = { secretKey: cfg?.secretKey ?? "", durationMs: cfg?.durationMs ?? 3_600_000 };
      duration = Math.max(duration, cfg?.durationMs ?? 3_600_000);
    }
    const devices = Object.keys(entries);
    if (!devices.length) throw new Error("no devices to claim (add a claim section to a device in the config)");
    await this.#o.bridge.claim(entries);
    const until = Date.now() + duration;
    for (const d of devices) c.bus.emit("claimWindow", { device: d, until });
    c.bus.emit("eventLog", {
      ts: Date.now(),
      kind: "claim",
      text: `claim window open for ${devices.join(", ")} until ${new Date(until).toISOString()}`,
    });
    return { devices, until };
  }

  #schedule(params: unknown, what: string, action: () => void): { success: boolean; inSeconds: number } {
    const raw = isObject(params) ? (params.seconds ?? params.delay) : params;
    const sec = typeof raw === "number" && raw >= 1 && raw <= 86_400 ? raw : 1;
    this.#o.log.warn(`${what} requested through ThingsBoard; in ${sec} s`);
    const t = setTimeout(() => {
      this.#pendingTimers.delete(t);
      action();
    }, sec * 1000);
    this.#pendingTimers.add(t);
    return { success: true, inSeconds: sec };
  }

  #restartStats(): void {
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    this.#statsTimer = setInterval(
      () => detach("statistics", this.#publishStats(), this.#o.log),
      this.#statsPeriodSec * 1000,
    );
    this.#statsTimer.unref();
  }

  async #stats(): Promise<ReadingValues> {
    const c = this.#o.host;
    const [cpu, temp, mem, d] = await Promise.all([
      this.#cpu.sample(),
      cpuTemperatureC(),
      memory(),
      disk(c.config.dataDir),
    ]);
    const b = this.#o.bridge;
    const ob = c.outboxStatus();
    const conn = c.connectionStatus();
    const v: ReadingValues = {
      cpuLoad1: cpu.loadAvg[0],
      cpuUsage: cpu.usagePercent ?? 0,
      processCpu: cpu.processPercent ?? 0,
      memoryFree: mem.availableBytes,
      memoryTotal: mem.totalBytes,
      processRss: mem.rssBytes,
      messagesSent: b.sender.stats.acked ?? 0,
      dataPointsSent: b.sender.stats.pointsAcked ?? 0,
      messagesReceived: b.stats.messagesReceived ?? 0,
      rpcReceived: b.stats.rpcReceived ?? 0,
      rpcRejected: b.stats.rpcRejected ?? 0,
      malformedReceived: b.stats.malformed ?? 0,
      oversizedReceived: b.stats.oversized ?? 0,
      deadLetters: c.deadLetters.count,
      outboxQueued: ob?.queued ?? 0,
      outboxOnDisk: ob?.onDisk ?? 0,
      outboxDropped: ob?.dropped ?? 0,
      reconnects: conn?.reconnects ?? 0,
      busErrors: c.bus.errorCount,
    };
    if (temp !== null) v.cpuTemperature = temp;
    if (d) {
      v.diskFree = d.availableBytes;
      v.diskUsedPercent = Math.round(d.usedPercent * 10) / 10;
    }
    return v;
  }

  async #publishStats(): Promise<void> {
    try {
      this.#o.bridge.ownTelemetry({ ts: Date.now(), values: await this.#stats() });
    } catch (err) {
      this.#o.log.warn(`statistics failed: ${(err as Error).message}`);
    }
  }

  async #publishAttributes(): Promise<void> {
    const c = this.#o.host;
    const id = unitIdentity();
    const [ips, os] = await Promise.all([ipAddresses(), osInfo()]);
    const app = c.appInfo();
    c.bus.emit("clientAttributes", "", {
      deadLetters: c.deadLetters.count,
      version: app.version,
      unit: app.unit,
      hostname: id.hostname,
      ipAddresses: ips.map((i) => i.address).join(", "),
      piModel: id.model ?? "unknown",
      serial: id.serial ?? "unknown",
      os: os.prettyName ?? "unknown",
      kernel: os.kernel,
      nodeVersion: process.version,
      hardware: c.hardwareKind,
      devices: c.runtime
        .list()
        .map((d) => d.info.name)
        .join(", "),
    });
  }

  #onLog(r: LogRecord): void {
    if (this.#remoteLevel === "off" || LEVELS.indexOf(r.level) < LEVELS.indexOf(this.#remoteLevel)) return;
    if (r.ns.includes(":mqtt") && r.level === "debug") return; // would feed back on itself
    if (this.#remoteLogs.length >= REMOTE_LOG_MAX) {
      this.#remoteLogs.shift();
      this.#remoteDropped++;
    }
    this.#remoteLogs.push(r);
  }

  /** Remote logs as gateway telemetry in bounded batches (key LOGS, one entry per record). */
  #flushLogs(): void {
    if (!this.#remoteLogs.length) return;
    const batch = this.#remoteLogs.splice(0, 200);
    for (const r of batch) {
      // ThingsBoard keeps one value per key and ts: records of the same millisecond get distinct ts.
      const ts = Math.max(r.ts, this.#lastLogTs + 1);
      this.#lastLogTs = ts;
      this.#o.bridge.ownTelemetry({ ts, values: { LOGS: `${r.level.toUpperCase()} [${r.ns}] ${r.msg}` } });
    }
    if (this.#remoteDropped) {
      this.#o.bridge.ownTelemetry({
        ts: Date.now(),
        values: { LOGS: `WARN remote log buffer full: ${this.#remoteDropped} records dropped` },
      });
      this.#remoteDropped = 0;
    }
  }
}

function defaultRestart(): void {
  process.kill(process.pid, "SIGTERM");
}
