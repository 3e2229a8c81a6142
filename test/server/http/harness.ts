// Shared helpers for the dashboard server tests: a real server on port 0 over the fake context,
// login through the real endpoint, and socket.io clients with bounded waits.
import { io as connect, type Socket } from "socket.io-client";
import { DashboardServer, type DashboardOptions } from "../../../server/http/dashboardServer.ts";
import { createFakeDashboard, type FakeDashboard, type FakeDashboardOptions } from "../../fakes/dashboardContext.ts";

export const ADMIN_PASSWORD = "correct horse";
export const VIEWER_PASSWORD = "viewer battery";

export interface Running {
  fake: FakeDashboard;
  server: DashboardServer;
  base: string;
  sockets: Socket[];
  close(): Promise<void>;
}

export async function startDashboard(
  opts: FakeDashboardOptions = {},
  serverOpts: DashboardOptions = {},
): Promise<Running> {
  const fake = createFakeDashboard(opts);
  const server = new DashboardServer(fake.ctx, { coalesceMs: 20, ...serverOpts });
  await server.start();
  const sockets: Socket[] = [];
  return {
    fake,
    server,
    base: `http://127.0.0.1:${server.port}`,
    sockets,
    async close() {
      for (const s of sockets) s.disconnect();
      await server.stop();
    },
  };
}

/** POST JSON; returns status, headers and parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Logs in and returns the Cookie header value for later requests. */
export async function login(base: string, password = ADMIN_PASSWORD): Promise<string> {
  const res = await postJson(`${base}/api/login`, { password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  const setCookie = res.headers.get("set-cookie");
  if (!setCookie) throw new Error("login set no cookie");
  return setCookie.split(";")[0] ?? "";
}

export function openSocket(run: Running, headers: Record<string, string>): Socket {
  const socket = connect(run.base, {
    transports: ["websocket"],
    extraHeaders: headers,
    reconnection: false,
    forceNew: true,
    timeout: 3000,
  });
  run.sockets.push(socket);
  return socket;
}

/** Resolves with the first payload of `event`, rejects after `ms`. */
export function nextEvent<T = unknown>(socket: Socket, event: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`timed out waiting for "${event}"`));
    }, ms);
    const on = (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    };
    socket.once(event, on);
  });
}

/** Connects with a session cookie and same-origin header; resolves with the socket and its first snapshot. */
export async function connectAuthed(run: Running, cookie: string): Promise<{ socket: Socket; snapshot: unknown }> {
  const socket = openSocket(run, { cookie, origin: run.base });
  const snapshot = await Promise.race([
    nextEvent(socket, "snapshot"),
    nextEvent<Error>(socket, "connect_error").then((e) => Promise.reject(new Error(`connect_error: ${e.message}`))),
  ]);
  return { socket, snapshot };
}

export function emitWithAck<T = unknown>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<T>;
}

/**
 * The headers every dashboard response must carry, written out literally: a test that compared
 * against the implementation's own SECURITY_HEADERS would pass whatever that constant said.
 */
export const EXPECTED_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
};
