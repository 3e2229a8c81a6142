// Child process of the dashboard scenario: logs in once through /api/login (the attempt limiter
// allows 5 logins a minute per address, and a user with 20 tabs shares one session), opens N
// socket.io clients with the session cookie, and records, per device update received, the delay
// since the update's updatedAt. Reports over IPC when told to stop.
import { io, type Socket } from "socket.io-client";
import { summarise } from "./common.ts";

interface Start {
  base: string;
  password: string;
  clients: number;
}

async function login(base: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error("login set no cookie");
  return cookie;
}

const latencies: number[] = [];
let updates = 0;
const sockets: Socket[] = [];

async function start(o: Start): Promise<void> {
  const cookie = await login(o.base, o.password);
  await Promise.all(
    Array.from(
      { length: o.clients },
      () =>
        new Promise<void>((resolve, reject) => {
          const s = io(o.base, {
            transports: ["websocket"],
            extraHeaders: { cookie },
            reconnection: false,
            forceNew: true,
            timeout: 10_000,
          });
          sockets.push(s);
          s.once("snapshot", () => resolve());
          s.once("connect_error", (err) => reject(err));
          s.on("device", (list: unknown) => {
            const now = Date.now();
            if (!Array.isArray(list)) return;
            for (const d of list) {
              const at = (d as { updatedAt?: unknown }).updatedAt;
              if (typeof at === "number") {
                latencies.push(now - at);
                updates++;
              }
            }
          });
        }),
    ),
  );
}

process.on("message", (raw: unknown) => {
  const m = raw as { op: "start"; start: Start } | { op: "reset" } | { op: "report" };
  if (m.op === "start") {
    start(m.start).then(
      () => process.send?.({ op: "started" }),
      (err: unknown) => process.send?.({ op: "error", error: String(err) }),
    );
  } else if (m.op === "reset") {
    latencies.length = 0;
    updates = 0;
    process.send?.({ op: "reset" });
  } else {
    for (const s of sockets) s.disconnect();
    process.send?.({ op: "report", updates, clients: sockets.length, ...summarise(latencies) }, () => process.exit(0));
  }
});
process.on("disconnect", () => process.exit(0));
