// Security defaults of the dashboard: authenticated, same-origin sockets; rate-limited logins;
// security headers on every response; logout that really ends the session.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  connectAuthed,
  EXPECTED_SECURITY_HEADERS,
  login,
  nextEvent,
  openSocket,
  postJson,
  startDashboard,
  type Running,
} from "./harness.ts";

function assertSecurityHeaders(headers: Headers, where: string): void {
  for (const [k, v] of Object.entries(EXPECTED_SECURITY_HEADERS)) assert.equal(headers.get(k), v, `${k} on ${where}`);
  const csp = headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'(;|$)/, "no inline script");
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /connect-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
}

async function connectError(run: Running, headers: Record<string, string>): Promise<string> {
  const socket = openSocket(run, headers);
  const result = await Promise.race([
    nextEvent<Error>(socket, "connect_error").then((e) => e.message),
    nextEvent(socket, "snapshot").then(() => "connected"),
  ]);
  socket.disconnect();
  return result;
}

describe("dashboard security", () => {
  let run: Running;
  let cookie: string;
  before(async () => {
    run = await startDashboard({
      dashboard: { password: "correct horse", allowedOrigins: ["https://ops.example.org"] },
    });
    cookie = await login(run.base);
  });
  after(() => run.close());

  test("security headers on pages, API, errors and the socket.io transport", async () => {
    for (const path of ["/", "/app.js", "/api/health", "/api/session", "/api/snapshot", "/nope", "/api/nope"]) {
      const res = await fetch(run.base + path, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      assertSecurityHeaders(res.headers, path);
    }
    const polling = await fetch(`${run.base}/socket.io/?EIO=4&transport=polling`, {
      headers: { cookie, origin: run.base },
      signal: AbortSignal.timeout(3000),
    });
    await polling.text();
    assert.equal(polling.status, 200);
    assertSecurityHeaders(polling.headers, "socket.io polling");
  });

  test("health is public and minimal; snapshot needs a session", async () => {
    const health = await fetch(`${run.base}/api/health`);
    assert.deepEqual(await health.json(), { ok: true });
    const anon = await fetch(`${run.base}/api/snapshot`);
    assert.equal(anon.status, 401);
    const authed = await fetch(`${run.base}/api/snapshot`, { headers: { cookie } });
    assert.equal(authed.status, 200);
    assert.equal(((await authed.json()) as { app: { unit: string } }).app.unit, "testpi");
  });

  test("the session cookie is HttpOnly, SameSite=Strict, Path=/, with a 32-byte random id", async () => {
    const res = await postJson(`${run.base}/api/login`, { password: "correct horse" });
    const setCookie = res.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    const id = /^tbgw_session=([^;]+)/.exec(setCookie)?.[1] ?? "";
    assert.equal(Buffer.from(id, "base64url").length, 32);
  });

  test("an unauthenticated socket handshake is refused", async () => {
    assert.equal(await connectError(run, { origin: run.base }), "unauthorized");
    assert.equal(await connectError(run, { origin: run.base, cookie: "tbgw_session=forged" }), "unauthorized");
  });

  test("a foreign Origin is refused even with a valid session", async () => {
    assert.notEqual(await connectError(run, { cookie, origin: "http://evil.example" }), "connected");
    assert.notEqual(await connectError(run, { cookie, origin: "null" }), "connected");
    assert.ok(run.server.stats && run.server.stats.refusedHandshakes > 0);
  });

  test("allowedOrigins and a missing Origin with a session are accepted", async () => {
    assert.equal(await connectError(run, { cookie, origin: "https://ops.example.org" }), "connected");
    assert.equal(await connectError(run, { cookie }), "connected");
    assert.notEqual(await connectError(run, {}), "connected");
  });

  test("POSTs from a foreign Origin are refused", async () => {
    const res = await postJson(`${run.base}/api/logout`, {}, { cookie, origin: "http://evil.example" });
    assert.equal(res.status, 403);
    assert.equal((await fetch(`${run.base}/api/snapshot`, { headers: { cookie } })).status, 200, "session survived");
  });

  test("bad bodies get clear JSON errors", async () => {
    const broken = await postJson(`${run.base}/api/login`, "{not json");
    assert.equal(broken.status, 400);
    assert.deepEqual(broken.body, { error: "invalid JSON body" });
    const huge = await postJson(`${run.base}/api/login`, { password: "x".repeat(10_000) });
    assert.equal(huge.status, 413);
    assert.deepEqual(huge.body, { error: "request body too large" });
  });

  test("logout ends the session and disconnects its sockets", async () => {
    const mine = await login(run.base);
    const { socket } = await connectAuthed(run, mine);
    const { socket: other } = await connectAuthed(run, cookie);
    const gone = nextEvent<string>(socket, "disconnect");
    const res = await postJson(`${run.base}/api/logout`, {}, { cookie: mine });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("set-cookie") ?? "", /Max-Age=0/);
    assert.equal(await gone, "io server disconnect");
    assert.equal((await fetch(`${run.base}/api/snapshot`, { headers: { cookie: mine } })).status, 401);
    assert.equal(await connectError(run, { cookie: mine, origin: run.base }), "unauthorized");
    assert.equal(other.connected, true, "other sessions are untouched");
  });
});

describe("login rate limit", () => {
  let run: Running;
  before(async () => {
    run = await startDashboard();
  });
  after(() => run.close());

  test("5 attempts per minute per address, then 429 with Retry-After", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await postJson(`${run.base}/api/login`, { password: `wrong-${i}` })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const limited = await postJson(`${run.base}/api/login`, { password: "correct horse" });
    assert.equal(limited.status, 429);
    const retry = Number(limited.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.match((limited.body as { error: string }).error, /too many attempts/);
  });
});
