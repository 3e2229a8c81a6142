// The LAN dashboard: Express serves the page and a small JSON API, socket.io carries live state.
// Security is on by default (see auth/ and httpSecurity.ts); this file only composes and runs it.
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import type { Config } from "../config/schema.ts";
import type { EventBus } from "../eventBus.ts";
import type { AppSnapshot, I2cScanEntry } from "../events.ts";
import type { ChangeResult } from "../features/pageDevices.ts";
import type { DeviceHistory } from "../history/historyRecorder.ts";
import type { HistoryRange } from "../history/tiers.ts";
import type { RpcDispatcher } from "../rpc/types.ts";
import { appPath } from "../util/appRoot.ts";
import type { Logger } from "../util/logger.ts";
import { apiRouter } from "./apiRoutes.ts";
import { AttemptLimiter } from "./auth/attemptLimiter.ts";
import { Credentials } from "./auth/credentials.ts";
import { MAX_SESSIONS, SessionStore } from "./auth/sessionStore.ts";
import type { Role } from "./protocol.ts";
import { SECURITY_HEADERS } from "./httpSecurity.ts";
import { SocketHub, type HubStats } from "./socketHub.ts";
import { HostCheck } from "./hostCheck.ts";
import type { OtaUploadApi } from "./updateUpload.ts";
import { dashboardListenError } from "../startupFailure.ts";

export interface DashboardContext {
  bus: EventBus;
  log: Logger;
  config: Config;
  /** Where the dashboard keeps its state (the password hash set through the setup step). */
  dataDir: string;
  /** Full state, cheap to call. */
  snapshot(): AppSnapshot;
  /** The same dispatcher ThingsBoard RPC uses. */
  rpc: RpcDispatcher;
  scanI2c(): Promise<I2cScanEntry[]>;
  /** Chart history of one device (server/history/), for the range the page picked. */
  history(device: string, range: HistoryRange): DeviceHistory;
  startClaim(deviceIds?: string[]): Promise<{ devices: string[]; until: number }>;
  /** Devices added from the dashboard: validated by the config schema, applied without a restart. */
  pageDevices: PageDevicesApi;
  /** The OTA updater, for a package uploaded by an admin; null when gateway.ota.enabled is false. */
  otaUpload?: OtaUploadApi | null;
}

export interface PageDevicesApi {
  add(device: Record<string, unknown>): Promise<ChangeResult>;
  update(id: string, device: Record<string, unknown>): Promise<ChangeResult>;
  remove(id: string): Promise<ChangeResult>;
  exportYaml(): string;
}

export interface DashboardOptions {
  /** Built page (scripts/build-web.mjs). */
  staticDir?: string;
  /** Minimum time between two broadcasts of deltas (per device at most 1000/coalesceMs updates/s). */
  coalesceMs?: number;
  /** Login and setup attempts allowed per client address per minute. */
  loginAttemptsPerMinute?: number;
  /** Login and setup attempts allowed per minute from all addresses together. */
  loginAttemptsOverallPerMinute?: number;
  /** Sessions kept per role (auth/sessionStore.ts MAX_SESSIONS). */
  maxSessions?: Readonly<Record<Role, number>>;
}

/** Slow-loris guard for every body but an upload's (which has its own idle limit). */
const BODY_DEADLINE_MS = 30_000;

function bodyDeadline(req: IncomingMessage, res: ServerResponse, ms: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => {
    if (!req.complete) req.socket.destroy();
  }, ms);
  timer.unref();
  res.once("close", () => clearTimeout(timer));
  req.once("end", () => clearTimeout(timer));
}

export class DashboardServer {
  #ctx: DashboardContext;
  #opts: Required<DashboardOptions>;
  #log: Logger;
  #http: HttpServer | null = null;
  #hub: SocketHub | null = null;
  #credentials: Credentials | null = null;
  #port = 0;
  #state: "new" | "starting" | "running" | "stopped" = "new";
  #refusedHosts = 0;
  #refusedHostLoggedAt = -Infinity;

  constructor(ctx: DashboardContext, opts: DashboardOptions = {}) {
    if (!ctx || typeof ctx.snapshot !== "function" || !ctx.bus || !ctx.config)
      throw new TypeError("DashboardServer needs a DashboardContext");
    this.#ctx = ctx;
    this.#log = ctx.log.child("http");
    this.#opts = {
      // From the app root, not from this file: the same code runs from server/http/ and from dist/.
      staticDir: opts.staticDir ?? appPath("web", "dist"),
      coalesceMs: opts.coalesceMs ?? 100,
      loginAttemptsPerMinute: opts.loginAttemptsPerMinute ?? 5,
      loginAttemptsOverallPerMinute: opts.loginAttemptsOverallPerMinute ?? 30,
      maxSessions: opts.maxSessions ?? MAX_SESSIONS,
    };
  }

  /** Actual listening port (0 before start). */
  get port(): number {
    return this.#port;
  }

  /** The one-time code that unlocks the first password setup, while no password is set (else null). */
  get setupCode(): string | null {
    return this.#credentials?.setupCode ?? null;
  }

  get stats(): HubStats | null {
    return this.#hub?.stats ?? null;
  }

  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error(`DashboardServer cannot start: it is ${this.#state}`);
    this.#state = "starting";
    const { config, dataDir } = this.#ctx;
    const credentials = await Credentials.load(config, dataDir, this.#log);
    this.#credentials = credentials;
    const sessions = new SessionStore(config.dashboard.sessionTtlHours * 3600_000, Date.now, this.#opts.maxSessions);
    const limiter = new AttemptLimiter(this.#opts.loginAttemptsPerMinute, 60_000);

    const app = express();
    app.disable("x-powered-by");
    app.set("etag", false);
    app.use((_req, res, next) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      next();
    });
    const hostCheck = new HostCheck({
      allowedHosts: config.dashboard.allowedHosts,
      allowedOrigins: config.dashboard.allowedOrigins,
    });
    app.use((req, res, next) => {
      if (req.path !== "/api/update/upload") bodyDeadline(req, res, BODY_DEADLINE_MS);
      next();
    });
    app.use((req, res, next) => {
      if (hostCheck.allows(req.headers.host)) return next();
      this.#refusedHost(req.headers.host, req.socket.remoteAddress);
      res
        .status(403)
        .type("text/plain")
        .send("host not allowed: add it to dashboard.allowedHosts if this is a name of the appliance");
    });
    const http = createServer(app);
    // Slow-loris guard: a LAN client has no reason to take long over its headers or body.
    // Node's requestTimeout covers the whole body and cannot be set per request: it is the
    // upload's (gateway.ota.uploadTimeoutSec), and every other body gets 30 s below.
    http.headersTimeout = 10_000;
    http.requestTimeout = Math.max(30_000, config.gateway.ota.uploadTimeoutSec * 1000);
    const hub = new SocketHub(http, this.#ctx, sessions, { coalesceMs: this.#opts.coalesceMs, hostCheck });
    // engine.io answers refused or malformed socket requests itself (400/403) without its
    // "headers" events: the security headers go on every response before anyone writes it.
    http.prependListener("request", (_req, res) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    });
    this.#http = http;
    this.#hub = hub;

    app.use(
      "/api",
      apiRouter({
        ctx: this.#ctx,
        log: this.#log,
        credentials,
        sessions,
        limiter,
        overallLimiter: new AttemptLimiter(this.#opts.loginAttemptsOverallPerMinute, 60_000),
        onSessionEnded: (key) => hub.disconnectSession(key),
        snapshot: () => hub.snapshot(),
      }),
    );
    const staticDir = this.#opts.staticDir;
    if (!existsSync(staticDir))
      this.#log.error(`dashboard page not built (${staticDir} missing): run node scripts/build-web.mjs`);
    app.use(
      express.static(staticDir, {
        index: "index.html",
        setHeaders: (res, path) => {
          if (path.endsWith(".html")) res.setHeader("Cache-Control", "no-cache");
        },
      }),
    );
    app.use((_req, res) => {
      res.status(404).type("text/plain").send("not found");
    });

    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(dashboardListenError(err, config.http.host, config.http.port));
      http.once("error", onError);
      http.listen(config.http.port, config.http.host, () => {
        http.off("error", onError);
        resolve();
      });
    }).catch(async (err: unknown) => {
      await hub.close();
      this.#state = "stopped";
      throw err;
    });
    http.on("error", (err) => this.#log.error(`dashboard server error: ${err.message}`));
    this.#port = (http.address() as AddressInfo).port;
    this.#state = "running";
    this.#log.info(`dashboard listening on http://${config.http.host}:${this.#port}`);
  }

  #refusedHost(host: string | undefined, from: string | undefined): void {
    // One line per minute at most: a rebinding page can send many requests.
    const now = Date.now();
    this.#refusedHosts++;
    if (now - this.#refusedHostLoggedAt < 60_000) return;
    this.#refusedHostLoggedAt = now;
    this.#log.warn(
      `refused a request for host ${JSON.stringify((host ?? "").slice(0, 100))} from ${from ?? "?"} (${this.#refusedHosts} so far): not a name of this appliance; add it to dashboard.allowedHosts if it is`,
    );
  }

  async stop(): Promise<void> {
    if (this.#state === "stopped" || this.#state === "new") {
      this.#state = "stopped";
      return;
    }
    this.#state = "stopped";
    const closing = this.#hub?.close();
    // Idle keep-alive connections would otherwise hold server.close() open until they time out.
    this.#http?.closeAllConnections();
    await closing;
    this.#log.info("dashboard stopped");
  }
}
