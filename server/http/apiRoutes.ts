// The small JSON API: health (public, minimal), session info, login/logout, first-run setup,
// the snapshot (authenticated), and the software package upload (admin, updateUpload.ts). Bodies are size-limited JSON, validated field by field.
import express, { type NextFunction, type Request, type Response } from "express";
import { isObject } from "../util/json.ts";
import type { Logger } from "../util/logger.ts";
import type { AttemptLimiter } from "./auth/attemptLimiter.ts";
import type { Credentials } from "./auth/credentials.ts";
import type { Session, SessionStore } from "./auth/sessionStore.ts";
import type { DashboardContext } from "./dashboardServer.ts";
import { checkOrigin, clearedSessionCookie, readCookie, sessionCookie, SESSION_COOKIE } from "./httpSecurity.ts";
import type { Role, SessionInfo } from "./protocol.ts";
import { updateUploadHandler } from "./updateUpload.ts";

export interface ApiDeps {
  ctx: DashboardContext;
  log: Logger;
  credentials: Credentials;
  sessions: SessionStore;
  limiter: AttemptLimiter;
  /** All addresses together: guessing spread over many addresses still meets a ceiling. */
  overallLimiter: AttemptLimiter;
  /** Logout: close the sockets of this session. */
  onSessionEnded(key: string): void;
  snapshot(): unknown;
}

function fail(res: Response, status: number, error: string): void {
  res.status(status).json({ error });
}

function clientAddress(req: Request): string {
  // No proxy in front of the appliance: the socket address is the client.
  return req.socket.remoteAddress ?? "unknown";
}

export function apiRouter(deps: ApiDeps): express.Router {
  const { ctx, log, credentials, sessions, limiter, overallLimiter } = deps;
  let lockoutLoggedUntil = 0;
  const router = express.Router();
  const allowed = ctx.config.dashboard.allowedOrigins;

  const sessionOf = (req: Request): Session | null => sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));

  router.use((req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    // Cookies are SameSite=Strict; refusing foreign Origins on writes is defence in depth against CSRF.
    if (req.method !== "GET" && req.method !== "HEAD" && checkOrigin(req, allowed) === false)
      return fail(res, 403, "origin not allowed");
    next();
  });
  // Before the JSON parser: the package streams to disk, it is never parsed nor buffered.
  router.post(
    "/update/upload",
    updateUploadHandler({
      log,
      ota: ctx.otaUpload,
      maxBytes: ctx.config.gateway.ota.maxUploadMb * 1048576,
      role: (req) => sessionOf(req)?.role ?? null,
      clientAddress,
    }),
  );
  router.use(express.json({ limit: "4kb", strict: true }));

  const startSession = (res: Response, role: Role): void => {
    const { id, evicted } = sessions.create(role);
    if (evicted) deps.onSessionEnded(evicted);
    res.setHeader("Set-Cookie", sessionCookie(id, sessions.ttlMs / 1000));
  };

  const limited = (req: Request, res: Response): boolean => {
    const wait = limiter.attempt(clientAddress(req));
    if (wait > 0) {
      log.warn(`too many login attempts from ${clientAddress(req)}`);
      res.setHeader("Retry-After", String(wait));
      fail(res, 429, `too many attempts: try again in ${wait} s`);
      return true;
    }
    // Issue 12: 200 guesses from 40 loopback addresses all got 401, never 429.
    const lockout = overallLimiter.attempt("all addresses");
    if (lockout === 0) return false;
    const now = Date.now();
    if (now >= lockoutLoggedUntil) {
      lockoutLoggedUntil = now + lockout * 1000;
      log.warn(
        `dashboard login locked for ${lockout} s: more than ${overallLimiter.max} login attempts a minute from all addresses together (someone may be guessing the password)`,
      );
    }
    res.setHeader("Retry-After", String(lockout));
    fail(res, 429, `login is locked for ${lockout} s: too many attempts on this dashboard from all addresses together`);
    return true;
  };

  router.get("/health", (_req, res) => {
    res.json({ ok: true });
  });

  router.get("/session", (req, res) => {
    const s = sessionOf(req);
    const info: SessionInfo = {
      authenticated: s !== null,
      role: s?.role ?? null,
      setupRequired: credentials.setupRequired,
      viewerEnabled: credentials.viewerEnabled,
    };
    res.json(info);
  });

  router.post("/login", async (req, res) => {
    if (limited(req, res)) return;
    const body: unknown = req.body;
    const password = isObject(body) ? body["password"] : undefined;
    if (typeof password !== "string" || password.length === 0)
      return fail(res, 400, "password must be a non-empty string");
    if (credentials.setupRequired && !credentials.viewerEnabled)
      return fail(res, 409, "no password is set yet: use the setup step");
    const role = await credentials.check(password);
    if (!role) {
      log.warn(`failed dashboard login from ${clientAddress(req)}`);
      return fail(res, 401, "wrong password");
    }
    startSession(res, role);
    log.info(`dashboard login (${role}) from ${clientAddress(req)}`);
    res.json({ ok: true, role });
  });

  router.post("/logout", (req, res) => {
    const s = sessions.delete(readCookie(req.headers.cookie, SESSION_COOKIE));
    if (s) deps.onSessionEnded(s.key);
    res.setHeader("Set-Cookie", clearedSessionCookie());
    res.json({ ok: true });
  });

  router.post("/setup", async (req, res) => {
    if (!credentials.setupRequired) return fail(res, 409, "a password is already set");
    if (limited(req, res)) return;
    const body: unknown = req.body;
    if (!isObject(body)) return fail(res, 400, "expected {code, password}");
    const result = await credentials.completeSetup(body["code"], body["password"]);
    if (!result.ok) {
      log.warn(`dashboard setup refused from ${clientAddress(req)}: ${result.error}`);
      return fail(res, result.status, result.error);
    }
    startSession(res, "admin");
    res.json({ ok: true, role: "admin" });
  });

  router.get("/snapshot", (req, res) => {
    if (!sessionOf(req)) return fail(res, 401, "log in first");
    const snap = deps.snapshot();
    if (snap === null) return fail(res, 503, "state is not available right now");
    res.json(snap);
  });

  router.use((_req, res) => fail(res, 404, "no such endpoint"));

  // Malformed JSON, oversized bodies and handler failures end here as JSON errors, never a crash.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: unknown; type?: unknown; message?: unknown };
    const status = typeof e.status === "number" && e.status >= 400 && e.status < 500 ? e.status : 500;
    if (status === 500) log.error(`dashboard API error: ${String(e.message)}`);
    const error =
      e.type === "entity.too.large"
        ? "request body too large"
        : e.type === "entity.parse.failed"
          ? "invalid JSON body"
          : status === 500
            ? "internal error"
            : String(e.message);
    if (!res.headersSent) fail(res, status, error);
  });
  return router;
}
