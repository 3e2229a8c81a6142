// DNS rebinding (issue 12): `Host: evil.example:<port>` with a matching Origin logged in. Only the
// names the dashboard is reached by are accepted, for the API, the page and socket.io alike; and
// engine.io's own error answers carry the security headers too.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { HostCheck, hostOf } from "../../../server/http/hostCheck.ts";
import { ADMIN_PASSWORD, EXPECTED_SECURITY_HEADERS, startDashboard, type Running } from "./harness.ts";

/** A raw HTTP request with any Host header (fetch does not let one set it). */
function raw(
  port: number,
  o: { method?: string; path: string; host: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: o.method ?? "GET",
        path: o.path,
        headers: {
          host: o.host,
          ...(o.body
            ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(o.body)) }
            : {}),
          ...o.headers,
        },
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end(o.body);
  });
}

describe("Host header check", () => {
  let run: Running;
  let port: number;
  before(async () => {
    run = await startDashboard({ dashboard: { password: ADMIN_PASSWORD, allowedHosts: ["gw.example.net"] } });
    port = run.server.port;
  });
  after(() => run.close());

  const loginWith = (host: string) =>
    raw(port, {
      method: "POST",
      path: "/api/login",
      host,
      headers: { origin: `http://${host}` },
      body: JSON.stringify({ password: ADMIN_PASSWORD }),
    });

  test("a rebinding host with a matching Origin cannot log in, see the page or open a socket", async () => {
    const evil = `evil.example:${port}`;
    const res = await loginWith(evil);
    assert.equal(res.status, 403);
    assert.equal(res.headers["set-cookie"], undefined, "no session");
    assert.match(res.body, /host not allowed/);
    assert.equal((await raw(port, { path: "/", host: evil })).status, 403);
    const sock = await raw(port, {
      path: "/socket.io/?EIO=4&transport=polling",
      host: evil,
      headers: { origin: `http://${evil}` },
    });
    assert.notEqual(sock.status, 200);
    assert.doesNotMatch(sock.body, /"sid"/, "no engine.io session handed out");
  });

  test("localhost, loopback addresses, the unit's host name and configured hosts are accepted", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `gw.example.net:${port}`, "GW.Example.Net"]) {
      const res = await loginWith(host);
      assert.equal(res.status, 200, host);
    }
  });

  test("engine.io's own 400/403 answers carry the security headers", async () => {
    const refused = await raw(port, {
      path: "/socket.io/?EIO=4&transport=polling",
      host: `127.0.0.1:${port}`,
      headers: { origin: "http://elsewhere.example" },
    });
    const bad = await raw(port, { path: "/socket.io/?EIO=4&transport=nonsense", host: `127.0.0.1:${port}` });
    for (const [name, r] of [
      ["refused origin", refused],
      ["bad transport", bad],
    ] as const) {
      assert.ok(r.status >= 400 && r.status < 500, `${name}: ${r.status}`);
      for (const [k, v] of Object.entries(EXPECTED_SECURITY_HEADERS))
        assert.equal(r.headers[k.toLowerCase()], v, `${k} on ${name}`);
    }
  });
});

test("hostOf and HostCheck on their own", () => {
  assert.equal(hostOf("[::1]:8080"), "::1");
  assert.equal(hostOf("Pi.Local:80"), "pi.local");
  assert.equal(hostOf("pi.local."), "pi.local");
  assert.equal(hostOf(""), null);
  assert.equal(hostOf(undefined), null);
  const check = new HostCheck({
    allowedHosts: [],
    allowedOrigins: ["https://ops.example.org"],
    unitNames: () => ["raspberrypi", "raspberrypi.local", "192.168.1.23", "fe80::1"],
  });
  for (const ok of [
    "raspberrypi:8080",
    "raspberrypi.local",
    "192.168.1.23:8080",
    "[fe80::1]:8080",
    "ops.example.org",
    "127.0.0.2:1",
    "[::1]:80",
    "x.localhost",
  ])
    assert.equal(check.allows(ok), true, ok);
  for (const bad of ["evil.example", "192.168.1.24", "raspberrypi.evil.example", "", "localhost.evil.example"])
    assert.equal(check.allows(bad), false, bad);
});
