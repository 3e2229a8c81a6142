// Fault test 6c, fuzzing the dashboard: the whole appliance with its dashboard on port 0. Seeded
// garbage HTTP requests to the JSON API (login, setup, logout, snapshot, unknown paths; broken
// JSON, wrong content types, bodies over the 4 kB limit, hostile keys), then thousands of random
// socket.io events and payloads on an authenticated socket (with and without acks). Every HTTP
// answer must be a 4xx/2xx, never a 500 or a dropped connection; afterwards the process is up,
// /api/health answers, and a real RPC from ThingsBoard still toggles the relay.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { io as connect, type Socket } from "socket.io-client";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import {
  GW_NAME,
  GW_TOKEN,
  rawConfig,
  RELAYS,
  startApp,
  summary,
  tempDir,
  type AppHarness,
} from "../fakes/appHarness.ts";
import { Fuzz, fuzzSeed } from "./fuzzGen.ts";

const PASSWORD = "fuzz-admin-password";
const HTTP_REQUESTS = 600;
const SOCKET_EVENTS = 2000;
const SEED = fuzzSeed();

let emu: Emulator;
let app: AppHarness;
const dir = tempDir("rel-fuzzhttp-");

before(async () => {
  emu = await startEmulator({
    gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }],
    minRpcTimeoutMs: 100,
    rpcTimeoutMs: 3000,
  });
  const raw = rawConfig(emu.mqttPort, dir);
  raw["dashboard"] = { password: PASSWORD };
  app = await startApp(raw, { dashboard: true });
  await app.ready();
});

after(async () => {
  await app?.stop();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  `${HTTP_REQUESTS} hostile HTTP requests and ${SOCKET_EVENTS} socket.io events never crash the dashboard (seed ${SEED})`,
  { timeout: 90_000 },
  async () => {
    const f = new Fuzz(SEED);
    const base = `http://127.0.0.1:${app.controller.httpPort}`;
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => {
      uncaught.push(e);
    };
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUncaught);

    // Log in first, before the fuzz fills the attempt limiter for this address.
    const login = await fetch(`${base}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(login.status, 200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";

    const statuses = new Map<number, number>();
    for (let i = 0; i < HTTP_REQUESTS; i++) {
      const path = f.pick([
        "/api/login",
        "/api/setup",
        "/api/logout",
        "/api/snapshot",
        "/api/session",
        "/api/%2e%2e/etc/passwd",
        "/api/__proto__",
        `/api/${encodeURIComponent(
          f
            .string()
            .replace(/[^\x21-\x7e]/g, "_")
            .slice(0, 50),
        )}`,
      ]);
      const method = f.pick(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH"]);
      const type = f.pick([
        "application/json",
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-16",
        "multipart/form-data; boundary=x",
        "",
      ]);
      const body =
        method === "GET"
          ? undefined
          : f.chance(0.1)
            ? '{"password":"' + "p".repeat(f.int(4000, 200_000)) + '"}'
            : f.payload("x");
      const headers: Record<string, string> = {};
      if (type) headers["content-type"] = type;
      if (f.chance(0.3))
        headers["cookie"] =
          f.chance(0.5) && path !== "/api/logout"
            ? cookie
            : `tbgw_session=${f
                .string()
                .replace(/[^\x21-\x7e]/g, "")
                .slice(0, 100)}`;
      if (f.chance(0.2)) headers["origin"] = f.pick([base, "http://evil.example", "null"]);
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? null : typeof body === "string" ? body : new Uint8Array(body),
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }

    const open = async (): Promise<Socket> => {
      const s = connect(base, {
        transports: ["websocket"],
        extraHeaders: { cookie, origin: base },
        reconnection: false,
        forceNew: true,
        timeout: 3000,
      });
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("connect_error", reject);
      });
      return s;
    };
    /** A fuzz value that fits a socket.io packet (oversized ones are a phase of their own). */
    const small = (): unknown => {
      const v = f.value();
      return (JSON.stringify(v) ?? "").length > 7000 ? f.string().slice(0, 1000) : v;
    };
    let socket: Socket = await open();
    let acks = 0;
    let withAck = 0;
    // A payload over the 16 kB socket buffer makes the server close the socket (socket.io's
    // maxHttpBufferSize): a defence, not a failure; the page would reconnect, and so do we.
    let reopened = 0;
    for (let i = 0; i < SOCKET_EVENTS; i++) {
      if (!socket.connected) {
        await new Promise((r) => setTimeout(r, 5));
        if (!socket.connected) {
          socket.disconnect();
          socket = await open();
          reopened++;
        }
      }
      const event = f.pick([
        "control",
        "control",
        "control",
        "claim",
        "sync",
        "scan",
        "__proto__",
        "constructor",
        "toString",
        f.string().slice(0, 30),
      ]);
      if (event === "scan" && f.chance(0.9)) continue; // a scan walks 112 addresses; a few are enough
      let payload: unknown = f.chance(0.5)
        ? f.value()
        : {
            device: f.pick(["relays", RELAYS, f.string()]),
            method: f.pick(["toggle_gpio", "setGpioStatus", "getGpioStatus", "read_now", f.string()]),
            params: f.value(),
          };
      // Oversized packets get their own phase below: one closes the socket with the acks still in flight.
      if ((JSON.stringify(payload) ?? "").length > 7000) payload = f.string().slice(0, 1000);
      // Half with an ack callback, a quarter plain, a quarter with extra arguments (draws in this order).
      const withCallback = f.chance(0.5);
      if (withCallback) {
        // Only the known events answer an ack; an unknown event has no handler to answer it.
        if (["control", "claim", "scan"].includes(event)) withAck++;
        socket.emit(event, payload, () => {
          acks++;
        });
      } else if (f.chance(0.5)) socket.emit(event, payload);
      else socket.emit(event, payload, small(), small());
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
    }
    // Events with an ack are answered (the control ones at least): wait for them, bounded.
    const deadline = Date.now() + 5000;
    while (acks < withAck * 0.95 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const stillConnected = socket.connected;
    socket.disconnect();
    // Oversized packets (socket.io maxHttpBufferSize 16 kB): the server closes that socket, and only that one.
    let closedForSize = 0;
    for (let i = 0; i < 5; i++) {
      const s = await open();
      const closed = new Promise<boolean>((r) => {
        s.once("disconnect", () => r(true));
        setTimeout(() => r(false), 2000);
      });
      s.emit("control", {
        device: RELAYS,
        method: "toggle_gpio",
        params: { pin: 17, pad: "z".repeat(f.int(17_000, 1_000_000)) },
      });
      if (await closed) closedForSize++;
      s.disconnect();
    }

    const health = await fetch(`${base}/api/health`);
    const rpc = await emu.rpc(RELAYS, "getGpioStatus", null, { twoWay: true, timeoutMs: 3000 });
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
    const handled = [...statuses].filter(([s]) => s < 500).reduce((n, [, c]) => n + c, 0);
    summary(
      `fuzz http+socket.io seed=${SEED}`,
      { produced: HTTP_REQUESTS, delivered: handled, lost: HTTP_REQUESTS - handled, duplicates: 0 },
      `statuses=${JSON.stringify(Object.fromEntries(statuses))} socket_events=${SOCKET_EVENTS} acked=${acks}/${withAck} socket_reopened=${reopened} oversize_closed=${closedForSize}/5`,
    );
    assert.deepEqual(uncaught, [], "no uncaught exception or unhandled rejection");
    assert.equal(handled, HTTP_REQUESTS, `no 5xx answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.ok(acks >= withAck * 0.95, `known events with an ack were answered (${acks}/${withAck})`);
    assert.ok(stillConnected || reopened > 0, "the socket survived the fuzz or was reopened");
    assert.equal(closedForSize, 5, "each oversized packet closed its socket");
    assert.equal(health.status, 200, "the dashboard still answers");
    assert.equal(rpc.status, 200, `RPC still works: ${JSON.stringify(rpc.body)}`);
    assert.equal(typeof (rpc.body as Record<string, unknown>)["17"], "boolean");
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "Object.prototype not polluted");
  },
);
