// What an authenticated socket may ask for: control (through the same RPC dispatcher as
// ThingsBoard), an I2C scan, a claim window, a resync. Each request is re-authorised (the session
// may have ended, viewers cannot act), validated, rate-limited, and always answered.
import type { AppSnapshot, I2cScanEntry } from "../events.ts";
import type { Logger } from "../util/logger.ts";
import { parseClaimRequest, parseControlRequest, parseHistoryRequest, TokenBucket } from "./controlRequest.ts";
import type { DashboardContext } from "./dashboardServer.ts";
import { parseDeviceChange } from "./deviceRequest.ts";
import type { Ack } from "./protocol.ts";
import type { DashboardSocket, HubStats } from "./socketHub.ts";

export interface HandlerDeps {
  ctx: DashboardContext;
  log: Logger;
  stats: HubStats;
  sessionLive(key: string): boolean;
  snapshot(): AppSnapshot | null;
  broadcastI2c(entries: I2cScanEntry[]): void;
  /** ctx.scanI2c(), single-flight: one scan at a time across all clients (the bus is shared with the sensors). */
  scanOnce(): Promise<I2cScanEntry[]>;
}

/** ThingsBoard gives RPC 10 s by default; a local click should not wait longer than that either. */
export const DISPATCH_TIMEOUT_MS = 10_000;
const BURST = 10;
const PER_SEC = 5;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function registerSocketHandlers(socket: DashboardSocket, deps: HandlerDeps): void {
  const bucket = new TokenBucket(BURST, PER_SEC);
  const { ctx, log, stats } = deps;

  function answer<T>(ack: unknown, reply: Ack<T>): void {
    if (!reply.ok) stats.rejectedRequests++;
    if (typeof ack === "function") (ack as (r: Ack<T>) => void)(reply);
    else if (!reply.ok) socket.emit("error", reply.error);
  }

  /** Returns an error reply when this socket may not act now, else null. */
  function refuse(what: string, needsAdmin: boolean): Ack<never> | null {
    if (!deps.sessionLive(socket.data.sessionKey)) {
      setImmediate(() => socket.disconnect(true));
      return { ok: false, error: "session expired: log in again" };
    }
    if (needsAdmin && socket.data.role !== "admin")
      return { ok: false, error: `forbidden: the viewer role cannot ${what}` };
    if (!bucket.take()) return { ok: false, error: "rate limited: too many requests, slow down" };
    return null;
  }

  socket.on("control", (raw: unknown, ack?: unknown) => {
    const refused = refuse("control devices", true);
    if (refused) return answer(ack, refused);
    const parsed = parseControlRequest(raw);
    if (!parsed.ok) {
      log.warn(`rejected control from ${socket.id}: ${parsed.error}`);
      ctx.bus.emit("eventLog", {
        ts: Date.now(),
        kind: "rpc",
        text: `dashboard command refused: ${parsed.error}`,
        ok: false,
      });
      return answer(ack, { ok: false, error: parsed.error });
    }
    stats.controls++;
    const req = parsed.value;
    log.info(`dashboard control ${req.method} on ${req.device}`, { params: req.params });
    const pending = Promise.resolve().then(() =>
      ctx.rpc.dispatch({ device: req.device, method: req.method, params: req.params, source: "dashboard" }),
    );
    withTimeout(pending, DISPATCH_TIMEOUT_MS, req.method)
      .then((reply) => {
        if (reply.ok) answer(ack, { ok: true, data: reply.data });
        else answer(ack, { ok: false, error: errorText(reply.data), data: reply.data });
      })
      .catch((err: unknown) => answer(ack, { ok: false, error: messageOf(err) }));
  });

  socket.on("scan", (raw?: unknown, ack?: unknown) => {
    // The ack is the last argument whether or not the client sent a payload.
    if (ack === undefined) ack = raw;
    const refused = refuse("scan the I2C bus", true);
    if (refused) return answer(ack, refused);
    deps
      .scanOnce()
      .then((entries) => {
        deps.broadcastI2c(entries);
        answer(ack, { ok: true, data: entries });
      })
      .catch((err: unknown) => answer(ack, { ok: false, error: `I2C scan failed: ${messageOf(err)}` }));
  });

  socket.on("claim", (raw: unknown, ack?: unknown) => {
    if (typeof raw === "function" && ack === undefined) [raw, ack] = [undefined, raw];
    const refused = refuse("open a claim window", true);
    if (refused) return answer(ack, refused);
    const parsed = parseClaimRequest(raw);
    if (!parsed.ok) return answer(ack, { ok: false, error: parsed.error });
    Promise.resolve()
      .then(() => ctx.startClaim(parsed.value.devices))
      .then((res) => answer(ack, { ok: true, data: res }))
      .catch((err: unknown) => answer(ack, { ok: false, error: `claim failed: ${messageOf(err)}` }));
  });

  socket.on("history", (raw: unknown, ack?: unknown) => {
    const refused = refuse("read history", false);
    if (refused) return answer(ack, refused);
    const parsed = parseHistoryRequest(raw);
    if (!parsed.ok) return answer(ack, { ok: false, error: parsed.error });
    try {
      const { devices, range } = parsed.value;
      answer(ack, { ok: true, data: devices.map((d) => ctx.history(d, range)) });
    } catch (err) {
      log.error(`history: ${messageOf(err)}`);
      answer(ack, { ok: false, error: "history is not available right now" });
    }
  });

  for (const op of ["add", "update", "remove"] as const) {
    const event = op === "add" ? "deviceAdd" : op === "update" ? "deviceUpdate" : "deviceRemove";
    socket.on(event, (raw: unknown, ack?: unknown) => {
      const refused = refuse(`${op} devices`, true);
      if (refused) return answer(ack, refused);
      const parsed = parseDeviceChange(raw, op);
      if (!parsed.ok) return answer(ack, { ok: false, error: parsed.error });
      const { id, device } = parsed.value;
      const pd = ctx.pageDevices;
      const run =
        op === "add" ? pd.add(device ?? {}) : op === "update" ? pd.update(id ?? "", device ?? {}) : pd.remove(id ?? "");
      withTimeout(Promise.resolve(run), DISPATCH_TIMEOUT_MS, `device ${op}`)
        .then((r) =>
          answer(
            ack,
            r.ok
              ? { ok: true, data: { id: r.id } }
              : { ok: false, error: r.errors.join("\n"), data: { errors: r.errors } },
          ),
        )
        .catch((err: unknown) => answer(ack, { ok: false, error: messageOf(err) }));
    });
  }

  socket.on("devicesExport", (raw?: unknown, ack?: unknown) => {
    if (ack === undefined) ack = raw;
    const refused = refuse("export the configuration", true);
    if (refused) return answer(ack, refused);
    answer(ack, { ok: true, data: ctx.pageDevices.exportYaml() });
  });

  socket.on("sync", () => {
    if (!deps.sessionLive(socket.data.sessionKey)) {
      socket.disconnect(true);
      return;
    }
    if (!bucket.take()) return answer(undefined, { ok: false, error: "rate limited: too many requests, slow down" });
    const snap = deps.snapshot();
    if (snap) socket.emit("snapshot", snap);
  });
}

/** RPC error replies carry {error, code} (server/rpc/types.ts); show the text. */
function errorText(data: unknown): string {
  if (
    typeof data === "object" &&
    data !== null &&
    "error" in data &&
    typeof (data as { error: unknown }).error === "string"
  ) {
    return (data as { error: string }).error;
  }
  return "request failed";
}
