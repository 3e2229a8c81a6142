// `npm run rpc` (scripts/tb-rpc.ts) as a user runs it, in a child process, against the emulator's
// REST API with the real appliance connected (issue 13): --help names every option, the exit code
// tells a device error (1) from usage (2) and from an RPC that never reached the device (3), and
// "fetch failed" becomes what failed (connection refused, DNS, TLS).
// The emulator's REST RPC follows ThingsBoard's RpcController / AbstractRpcController (see
// scripts/emulator/rest.ts).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import { GW_NAME, GW_TOKEN, RELAYS, rawConfig, startApp, tempDir, type AppHarness } from "../fakes/appHarness.ts";
import { makePki, type Pki } from "../fakes/pki.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
let emu: Emulator;
let app: AppHarness;
let pki: Pki;
const dir = tempDir("tb-rpc-");

before(async () => {
  emu = await startEmulator({
    gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }],
    minRpcTimeoutMs: 100,
    rpcTimeoutMs: 5000,
  });
  app = await startApp(rawConfig(emu.mqttPort, `${dir}/data`));
  await app.ready();
  pki = makePki();
});
after(async () => {
  await app?.stop();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

/** Runs the tool as `npm run rpc` does (node --import tsx scripts/tb-rpc.ts ...); never blocks this event loop. */
async function rpcTool(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/tb-rpc.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const url = () => `http://127.0.0.1:${emu.httpPort}`;

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test("--help prints a usage that names every option, exit 0", { timeout: 60_000 }, async () => {
  const r = await rpcTool(["--help"]);
  assert.equal(r.code, 0);
  for (const opt of ["--url", "--user", "--password", "--oneway", "--timeout", "--help"])
    assert.match(r.stdout, new RegExp(`${opt}\\b`), `usage names ${opt}`);
  assert.match(r.stdout, /Exit codes:/);
});

test("usage mistakes: exit 2 with the reason and the usage", { timeout: 60_000 }, async () => {
  const missing = await rpcTool([]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /A device name and a method are needed\.\n\nUsage: npm run rpc/);
  const badJson = await rpcTool([RELAYS, "toggle_gpio", "{pin:17}"]);
  assert.equal(badJson.code, 2);
  assert.match(badJson.stderr, /The params must be JSON, e\.g\. '\{"pin":17\}'; got \{pin:17\}/);
  const unknown = await rpcTool(["--bogus", RELAYS, "x"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
});

test("a device reply: exit 0 and the reply printed", { timeout: 60_000 }, async () => {
  const r = await rpcTool(["--url", url(), RELAYS, "toggle_gpio", '{"pin":17}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'HTTP 200 {"success":true,"pin":17,"enabled":true}');
});

test("an error reply from the device: exit 1 and the error printed", { timeout: 60_000 }, async () => {
  const r = await rpcTool(["--url", url(), RELAYS, "toggle_gpio", '{"pin":5}']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^The device answered an error: \{"success":false,"error":"[^"]*5[^"]*","code":"[A-Z_]+"\}/);
  const unknownMethod = await rpcTool(["--url", url(), RELAYS, "no_such_method"]);
  assert.equal(unknownMethod.code, 1);
  assert.match(unknownMethod.stderr, /unknown method \\"no_such_method\\"/);
});

test("not delivered: wrong password, unknown device -> exit 3 with what to fix", { timeout: 60_000 }, async () => {
  const login = await rpcTool(["--url", url(), "--password", "wrong", RELAYS, "toggle_gpio"]);
  assert.equal(login.code, 3);
  assert.equal(
    login.stderr.trim(),
    `${url()} refused the login of tenant@thingsboard.org: wrong user or password (--user, --password).`,
  );
  const device = await rpcTool(["--url", url(), "No Such Device", "toggle_gpio"]);
  assert.equal(device.code, 3);
  assert.equal(
    device.stderr.trim(),
    `${url()} has no device named "No Such Device" (names are case-sensitive; the dashboard lists them).`,
  );
});

test('"fetch failed" becomes what failed: connection refused, DNS, TLS', { timeout: 90_000 }, async () => {
  const port = await freePort();
  const refused = await rpcTool(["--url", `http://127.0.0.1:${port}`, RELAYS, "toggle_gpio"]);
  assert.equal(refused.code, 3);
  assert.equal(
    refused.stderr.trim(),
    `Cannot connect to http://127.0.0.1:${port}: connection refused (nothing listens on 127.0.0.1:${port}; is ThingsBoard running, and is --url right?).`,
  );

  // .invalid never resolves (RFC 6761); a resolver without network answers EAI_AGAIN instead.
  const dns = await rpcTool(["--url", "http://no-such-host.invalid:9090", RELAYS, "toggle_gpio"]);
  assert.equal(dns.code, 3);
  assert.match(
    dns.stderr.trim(),
    /^Cannot connect to http:\/\/no-such-host\.invalid:9090: (the host name no-such-host\.invalid does not resolve|DNS lookup of no-such-host\.invalid failed temporarily)/,
  );

  // An HTTPS server whose certificate comes from a CA this machine does not trust.
  const https = createHttpsServer(
    { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
    (_req, res) => res.end("{}"),
  );
  await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
  const tlsPort = (https.address() as AddressInfo).port;
  try {
    const tls = await rpcTool(["--url", `https://127.0.0.1:${tlsPort}`, RELAYS, "toggle_gpio"], {
      NODE_EXTRA_CA_CERTS: "",
    });
    assert.equal(tls.code, 3);
    assert.equal(
      tls.stderr.trim(),
      `TLS: 127.0.0.1:${tlsPort} is not trusted: its certificate is signed by a CA this machine does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE); if it uses a certificate from your own CA, run with NODE_EXTRA_CA_CERTS=/path/to/ca.pem.`,
    );
    // The advice works: with the CA trusted, the request gets through TLS (and this fake ThingsBoard's login answer has no token).
    const trusted = await rpcTool(["--url", `https://127.0.0.1:${tlsPort}`, RELAYS, "toggle_gpio"], {
      NODE_EXTRA_CA_CERTS: pki.caFile,
    });
    assert.doesNotMatch(trusted.stderr, /TLS/);
  } finally {
    https.closeAllConnections();
    await new Promise<void>((r) => https.close(() => r()));
  }
});

test("the device's gateway offline: ThingsBoard's reason, exit 3", { timeout: 60_000 }, async () => {
  await app.stop();
  const r = await rpcTool(["--url", url(), "--timeout", "300", RELAYS, "toggle_gpio", '{"pin":17}']);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  // ThingsBoard answers 409 with no body for a device with no session (scripts/emulator/rpc.ts, after TB's AbstractRpcController).
  assert.equal(
    r.stderr.trim(),
    '"rel Relays" is not connected (HTTP 409: no active session; is its gateway running and online?).',
  );
});
