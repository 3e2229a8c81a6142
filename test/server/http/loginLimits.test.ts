// Issue 12, the LAN side of logins: guessing spread over many source addresses meets an overall
// ceiling (with the lockout in the log and in the page's error text); a flood of viewer logins
// never evicts the admin; one session cannot hold sockets without end.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { MAX_SESSIONS, SessionStore } from "../../../server/http/auth/sessionStore.ts";
import { MAX_SOCKETS_PER_SESSION } from "../../../server/http/socketHub.ts";
import { createLogger } from "../../../server/util/logger.ts";
import {
  ADMIN_PASSWORD,
  VIEWER_PASSWORD,
  connectAuthed,
  login,
  nextEvent,
  openSocket,
  startDashboard,
  type Running,
} from "./harness.ts";

/** POST /api/login from a given loopback source address (127.0.0.N). */
function loginFrom(port: number, localAddress: string, password: string): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ password });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        localAddress,
        method: "POST",
        path: "/api/login",
        headers: { "content-type": "application/json", "content-length": String(body.length) },
        timeout: 60_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end(body);
  });
}

describe("login limits across addresses and roles", () => {
  const runs: Running[] = [];
  after(async () => {
    for (const r of runs) await r.close();
  });

  test(
    "200 guesses from 40 addresses meet the overall ceiling: 429 with the lockout in the log and the answer",
    { timeout: 120_000 },
    async () => {
      const lines: string[] = [];
      const run = await startDashboard({
        dashboard: { password: ADMIN_PASSWORD },
        log: createLogger("info", (l) => lines.push(l)),
      });
      runs.push(run);
      const statuses: number[] = [];
      let lockoutText = "";
      // Five rounds of one guess from each of 40 addresses: each address stays within its own 5/min.
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => loginFrom(run.server.port, `127.0.0.${i + 2}`, `guess ${round}-${i}`)),
        );
        for (const r of results) {
          statuses.push(r.status);
          if (r.status === 429) lockoutText = r.body;
        }
      }
      const count = (s: number) => statuses.filter((x) => x === s).length;
      assert.equal(count(401), 30, "the first 30 guesses are checked");
      assert.equal(count(429), 170, "the rest are refused unchecked");
      assert.match(
        lockoutText,
        /login is locked for \d+ s: too many attempts on this dashboard from all addresses together/,
      );
      assert.ok(
        lines.some((l) => /dashboard login locked for \d+ s/.test(l)),
        "lockout logged",
      );
      assert.equal(
        lines.filter((l) => /dashboard login locked/.test(l)).length,
        1,
        "logged once per lockout, not per request",
      );
    },
  );

  test(
    "viewer logins past the viewer cap never evict the admin; the oldest viewers go, and lose their sockets",
    { timeout: 120_000 },
    async () => {
      // The real caps (1000 viewers) are checked on SessionStore directly below: 1000 scrypt logins
      // would take minutes on a shared CI machine.
      const cap = 30;
      const run = await startDashboard(
        { dashboard: { password: ADMIN_PASSWORD, viewerPassword: VIEWER_PASSWORD } },
        {
          loginAttemptsPerMinute: 100_000,
          loginAttemptsOverallPerMinute: 100_000,
          maxSessions: { admin: 5, viewer: cap },
        },
      );
      runs.push(run);
      const admin = await login(run.base, ADMIN_PASSWORD);
      const { socket: adminSocket } = await connectAuthed(run, admin);
      const firstViewer = await login(run.base, VIEWER_PASSWORD);
      const { socket: viewerSocket } = await connectAuthed(run, firstViewer);
      const viewerKicked = nextEvent(viewerSocket, "disconnect", 60_000);
      for (let i = 0; i < cap + 10; i += 2)
        await Promise.all([login(run.base, VIEWER_PASSWORD), login(run.base, VIEWER_PASSWORD)]);
      const session = async (cookie: string) =>
        (await (await fetch(`${run.base}/api/session`, { headers: { cookie } })).json()) as { role: string | null };
      assert.equal((await session(admin)).role, "admin", "the admin is still logged in");
      assert.equal(adminSocket.connected, true, "and keeps its socket");
      assert.equal((await session(firstViewer)).role, null, "the oldest viewer session was evicted");
      await viewerKicked;
    },
  );

  test(`SessionStore with the real caps: ${MAX_SESSIONS.viewer + 500} viewer sessions leave every admin session alone`, () => {
    const store = new SessionStore(3_600_000);
    const admins = Array.from({ length: 3 }, () => store.create("admin").id);
    const viewers: string[] = [];
    for (let i = 0; i < MAX_SESSIONS.viewer + 500; i++) viewers.push(store.create("viewer").id);
    for (const a of admins) assert.equal(store.get(a)?.role, "admin");
    assert.equal(store.get(viewers[0])?.role, undefined, "oldest viewer gone");
    assert.equal(store.get(viewers.at(-1))?.role, "viewer");
    assert.equal(store.size, 3 + MAX_SESSIONS.viewer);
    // Admins past their own cap evict the oldest admin, never a viewer.
    const more = Array.from({ length: MAX_SESSIONS.admin }, () => store.create("admin"));
    assert.equal(store.get(admins[0])?.role, undefined);
    assert.ok(more.every((m) => store.get(m.id)?.role === "admin"));
    assert.equal(store.size, MAX_SESSIONS.admin + MAX_SESSIONS.viewer);
  });

  test(`one session holds at most ${MAX_SOCKETS_PER_SESSION} sockets`, { timeout: 60_000 }, async () => {
    const run = await startDashboard({ dashboard: { password: ADMIN_PASSWORD } });
    runs.push(run);
    const cookie = await login(run.base);
    for (let i = 0; i < MAX_SOCKETS_PER_SESSION; i++) await connectAuthed(run, cookie);
    const extra = openSocket(run, { cookie, origin: run.base });
    const err = await nextEvent<Error>(extra, "connect_error");
    assert.match(err.message, /too many connections for this session/);
    // Closing one frees a place.
    const first = run.sockets[0];
    assert.ok(first);
    const gone = nextEvent(first, "disconnect");
    first.disconnect();
    await gone;
    await connectAuthed(run, cookie);
  });
});
