// The live channel: socket.io with the Origin checked in allowRequest (socket.io does not check it
// for websockets, GHSA-mj22-23ff-2hrr) and the session cookie checked in io.use (which always
// calls next). Every (re)connect gets a full snapshot, then coalesced deltas from the bus.
import type { Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import type { AppSnapshot, I2cScanEntry } from "../events.ts";
import type { Logger } from "../util/logger.ts";
import { detach } from "../util/detach.ts";
import type { SessionStore } from "./auth/sessionStore.ts";
import { DeltaCoalescer, type DeltaBatch } from "./deltaCoalescer.ts";
import { checkOrigin, readCookie, addSecurityHeaders, SESSION_COOKIE } from "./httpSecurity.ts";
import type { ClientToServerEvents, Role, ServerToClientEvents } from "./protocol.ts";
import { registerSocketHandlers, type HandlerDeps } from "./socketHandlers.ts";
import type { DashboardContext } from "./dashboardServer.ts";
import type { HostCheck } from "./hostCheck.ts";

export interface SocketData {
  role: Role;
  sessionKey: string;
}

export type DashboardSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type DashboardIo = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Room of every authenticated socket. */
const LIVE = "live";

/** Sockets one session may hold open at once (tabs, phones). */
export const MAX_SOCKETS_PER_SESSION = 32;

export interface HubStats {
  connections: number;
  refusedHandshakes: number;
  rejectedRequests: number;
  controls: number;
}

export class SocketHub {
  readonly io: DashboardIo;
  readonly stats: HubStats = { connections: 0, refusedHandshakes: 0, rejectedRequests: 0, controls: 0 };
  #ctx: DashboardContext;
  #log: Logger;
  #sessions: SessionStore;
  #coalescer: DeltaCoalescer;
  #pruneTimer: NodeJS.Timeout;
  #scanInFlight: Promise<I2cScanEntry[]> | null = null;
  #socketsPerSession = new Map<string, number>();

  constructor(
    http: HttpServer,
    ctx: DashboardContext,
    sessions: SessionStore,
    opts: { coalesceMs: number; hostCheck?: HostCheck },
  ) {
    this.#ctx = ctx;
    this.#log = ctx.log.child("ws");
    this.#sessions = sessions;
    const allowed = ctx.config.dashboard.allowedOrigins;
    this.io = new Server(http, {
      serveClient: false, // the page bundles its own client (web/dist), no CDN
      maxHttpBufferSize: 16 * 1024, // control messages are tiny
      pingInterval: 10_000,
      pingTimeout: 10_000,
      allowRequest: (req, callback) => {
        if (opts.hostCheck && !opts.hostCheck.allows(req.headers.host)) {
          this.stats.refusedHandshakes++;
          callback("host not allowed", false);
          return;
        }
        const origin = checkOrigin(req, allowed);
        if (
          origin === false ||
          (origin === "absent" && !sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE)))
        ) {
          this.stats.refusedHandshakes++;
          this.#log.warn(
            `refused socket request from ${req.socket.remoteAddress ?? "?"}: ${origin === false ? `origin ${String(req.headers.origin).slice(0, 100)} not allowed` : "no Origin and no session"}`,
          );
          callback("origin not allowed", false);
          return;
        }
        callback(null, true);
      },
    });
    this.io.engine.on("initial_headers", (headers: Record<string, string>) => addSecurityHeaders(headers));
    this.io.engine.on("headers", (headers: Record<string, string>) => addSecurityHeaders(headers));
    this.io.use((socket, next) => {
      const session = sessions.get(readCookie(socket.request.headers.cookie, SESSION_COOKIE));
      if (!session) {
        this.stats.refusedHandshakes++;
        next(new Error("unauthorized"));
        return;
      }
      // A few tabs and phones per login; a script opening sockets without end is refused.
      const open = this.#socketsPerSession.get(session.key) ?? 0;
      if (open >= MAX_SOCKETS_PER_SESSION) {
        this.stats.refusedHandshakes++;
        this.#log.warn(
          `refused socket from ${socket.request.socket.remoteAddress ?? "?"}: its session already has ${open} sockets`,
        );
        next(new Error("too many connections for this session"));
        return;
      }
      this.#socketsPerSession.set(session.key, open + 1);
      socket.once("disconnect", () => {
        const n = (this.#socketsPerSession.get(session.key) ?? 1) - 1;
        if (n <= 0) this.#socketsPerSession.delete(session.key);
        else this.#socketsPerSession.set(session.key, n);
      });
      socket.data.role = session.role;
      socket.data.sessionKey = session.key;
      next();
    });
    this.io.on("connection", (socket) => this.#onConnection(socket));

    this.#coalescer = new DeltaCoalescer(opts.coalesceMs, (batch) => this.#broadcast(batch));
    const bus = ctx.bus;
    bus.on(this, "deviceUpdated", (s) => this.#coalescer.device(s));
    bus.on(this, "connection", (c) => this.#coalescer.connection(c));
    bus.on(this, "outbox", (o) => this.#coalescer.outbox(o));
    bus.on(this, "eventLog", (e) => this.#coalescer.event(e));
    bus.on(this, "devicesChanged", () => this.#coalescer.snapshot());
    bus.on(this, "claimWindow", (info) => this.io.to(LIVE).emit("claim", { device: info.device, until: info.until }));

    // Expired sessions lose their open sockets too, not only future requests.
    this.#pruneTimer = setInterval(() => {
      for (const key of sessions.prune()) this.disconnectSession(key);
    }, 60_000);
    this.#pruneTimer.unref();
  }

  /** Full state for one socket or all; a failing snapshot() is reported, not thrown. */
  snapshot(): AppSnapshot | null {
    try {
      return this.#ctx.snapshot();
    } catch (err) {
      this.#log.error(`snapshot failed: ${(err as Error).message}`);
      return null;
    }
  }

  disconnectSession(key: string): void {
    this.io.in(key).disconnectSockets(true);
  }

  async close(): Promise<void> {
    this.#ctx.bus.removeListeners(this);
    this.#coalescer.stop();
    clearInterval(this.#pruneTimer);
    await new Promise<void>((resolve) => {
      // io.close() disconnects every socket and discards its transport (disconnectSockets() first
      // would instead start engine.io's orderly polling close, a 30 s timer that delays exit), then
      // closes the http server; its callback error (already closed) is not ours to report.
      this.io
        .close(() => resolve())
        .catch((err: unknown) => {
          this.#log.debug(() => `socket.io close: ${String(err)}`);
          resolve();
        });
    });
  }

  #onConnection(socket: DashboardSocket): void {
    this.stats.connections++;
    // The in-memory adapter joins synchronously; a cluster adapter would return a promise.
    detach(
      `socket ${socket.id} joining its rooms`,
      Promise.resolve(socket.join([LIVE, socket.data.sessionKey])),
      this.#log,
    );
    this.#log.debug(() => `socket ${socket.id} connected (${socket.data.role})`);
    const snap = this.snapshot();
    if (snap) socket.emit("snapshot", snap);
    else socket.emit("error", "state is not available right now");
    const deps: HandlerDeps = {
      ctx: this.#ctx,
      log: this.#log,
      stats: this.stats,
      sessionLive: (key) => this.#sessions.isLive(key),
      snapshot: () => this.snapshot(),
      broadcastI2c: (entries) => this.io.to(LIVE).emit("i2c", entries),
      scanOnce: () => this.#scanOnce(),
    };
    registerSocketHandlers(socket, deps);
  }

  #scanOnce(): Promise<I2cScanEntry[]> {
    this.#scanInFlight ??= Promise.resolve()
      .then(() => this.#ctx.scanI2c())
      .finally(() => {
        this.#scanInFlight = null;
      });
    return this.#scanInFlight;
  }

  #broadcast(batch: DeltaBatch): void {
    const live = this.io.to(LIVE);
    if (batch.snapshot) {
      const snap = this.snapshot();
      if (snap) live.emit("snapshot", snap);
      return;
    }
    if (batch.connection) live.emit("connection", batch.connection);
    if (batch.outbox) live.emit("outbox", batch.outbox);
    if (batch.devices.length > 0) live.emit("device", batch.devices);
    if (batch.events.length > 0) live.emit("event", batch.events);
  }
}
