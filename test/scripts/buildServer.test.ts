// scripts/build-server.mjs and the bundle it makes, run the way the Pi runs it: plain node on
// dist/rpi-tb-gateway.mjs in an app directory without any .ts file.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import {
  CHILD_DEVICES,
  CLIMATE,
  GW_NAME,
  GW_TOKEN,
  RELAYS,
  rawConfig,
  spawnApp,
  tempDir,
  writeConfigFile,
} from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";
import { REPO } from "./helpers/sandbox.ts";
import {
  BUNDLE_TEST_PAGE,
  BUNDLE_TEST_VERSION,
  buildServer,
  bundledApp,
  exitWithin,
  terminate,
  watchOutput,
  type BundledApp,
} from "./helpers/bundledApp.ts";

let app: BundledApp;
const tmp = tempDir("build-server-");
before(() => {
  app = bundledApp();
});
after(() => {
  app?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const dist = () => path.join(app.dir, "dist");
const bundleFile = () => path.join(dist(), "rpi-tb-gateway.app.mjs");

describe("build-server.mjs", () => {
  test("writes the entry, the bundle with a linked source map, and its input list", () => {
    assert.match(app.buildOutput, /build-server: built .*rpi-tb-gateway\.mjs from \d+ modules/);
    const entry = fs.readFileSync(app.entry, "utf8");
    assert.match(entry, /process\.setSourceMapsEnabled\(true\);\nawait import\("\.\/rpi-tb-gateway\.app\.mjs"\);/);
    const code = fs.readFileSync(bundleFile(), "utf8");
    assert.match(code, /\/\/# sourceMappingURL=rpi-tb-gateway\.app\.mjs\.map\s*$/);
    const map = JSON.parse(fs.readFileSync(`${bundleFile()}.map`, "utf8")) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    assert.ok(
      map.sources.some((s) => s.endsWith("server/main.ts")),
      "stack traces can name server/main.ts",
    );
    assert.equal(map.sourcesContent, undefined, "sources are not copied into the map");
    const inputs = JSON.parse(fs.readFileSync(path.join(dist(), "rpi-tb-gateway.inputs.json"), "utf8")) as string[];
    assert.ok(inputs.includes("server/main.ts") && inputs.includes("server/util/appRoot.ts"));
    // The Pi's bundle carries no emulator; the demo's has it inlined (docs/architecture.md).
    assert.ok(
      !map.sources.some((s) => s.includes("scripts/")),
      `no scripts/ in the appliance's bundle: ${map.sources.filter((s) => s.includes("scripts/")).join(", ")}`,
    );
    const demoMap = JSON.parse(fs.readFileSync(path.join(dist(), "rpi-tb-gateway-demo.app.mjs.map"), "utf8")) as {
      sources: string[];
    };
    assert.ok(
      demoMap.sources.some((s) => s.endsWith("scripts/emulator/index.ts")),
      "emulator inlined in the demo",
    );
    assert.ok(
      inputs.includes("scripts/emulator/index.ts") && inputs.includes("scripts/demo.ts"),
      "the demo's inputs count for the up-to-date check",
    );
    assert.match(fs.readFileSync(app.demoEntry, "utf8"), /await import\("\.\/rpi-tb-gateway-demo\.app\.mjs"\);/);
    // Dynamic imports are inlined: neither bundle loads a .ts at run time.
    assert.doesNotMatch(code, /import\(\s*["'][^"']*\.ts["']\s*\)/);
    assert.doesNotMatch(
      fs.readFileSync(path.join(dist(), "rpi-tb-gateway-demo.app.mjs"), "utf8"),
      /import\(\s*["'][^"']*\.ts["']\s*\)/,
    );
    assert.doesNotMatch(code, /^import .* from ["']\.{1,2}\//m, "no relative import left outside the bundle");
    // Packages stay external, resolved from node_modules at run time.
    assert.match(code, /^import \w+ from "better-sqlite3";$/m);
  });

  test("imports only packages that npm ci --omit=dev installs on the Pi", () => {
    const code = fs.readFileSync(bundleFile(), "utf8");
    const specifiers = new Set(
      [...code.matchAll(/(?:^import (?:[^"';]* from )?|\bimport\()\s*"([^"]+)"/gm)].map((m) => m[1] ?? ""),
    );
    const packages = [...specifiers]
      .filter((s) => !s.startsWith("node:") && !s.startsWith("."))
      .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : (s.split("/")[0] ?? s)));
    assert.ok(packages.includes("better-sqlite3") && packages.includes("mqtt"), `found: ${packages.join(", ")}`);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as Record<
      string,
      Record<string, string> | undefined
    >;
    const runtime = new Set([
      ...Object.keys(pkg["dependencies"] ?? {}),
      ...Object.keys(pkg["optionalDependencies"] ?? {}),
    ]);
    assert.deepEqual(
      packages.filter((p) => !runtime.has(p)),
      [],
      "a dev dependency in the bundle would be missing on the Pi",
    );
  });

  test("skips work when up to date; rebuilds when an input is newer, the input list is gone, or --force", () => {
    const again = buildServer(dist());
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /is up to date/);

    // An input newer than the bundle, without touching this checkout: age the bundle instead.
    const old = new Date(Date.now() - 365 * 86_400_000);
    fs.utimesSync(bundleFile(), old, old);
    const stale = buildServer(dist());
    assert.match(stale.stdout, /build-server: built /);

    fs.rmSync(path.join(dist(), "rpi-tb-gateway.inputs.json"));
    assert.match(buildServer(dist()).stdout, /build-server: built /);
    assert.match(buildServer(dist()).stdout, /is up to date/);
    assert.match(buildServer(dist(), ["--force"]).stdout, /build-server: built /);

    const bad = buildServer(dist(), ["--frobnicate"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /Unknown option '--frobnicate'/);
  });
});

describe("the bundle, run by plain node", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ mqttPort: 0, httpPort: false, gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }] });
  });
  after(() => emu?.stop());

  test("serves: devices connect, telemetry flows, RPC works, the dashboard answers; SIGTERM exits 0", async () => {
    const dataDir = path.join(tmp, "data");
    const file = writeConfigFile(tmp, rawConfig(emu.mqttPort, dataDir, { devices: CHILD_DEVICES }));
    const child = spawnApp(file, { NODE_OPTIONS: "" }, { entry: app.entry, cwd: app.dir });
    let code: number | null;
    try {
      const started = await child.waitLine(/Dashboard: http:\/\/localhost:\d+/, 30_000);
      // package.json and web/dist come from the bundle's app directory, not from this checkout.
      assert.ok(
        child.lines.some((l) => l.includes(`rpi-tb-gateway ${BUNDLE_TEST_VERSION} running`)),
        child.lines.join("\n"),
      );
      const port = Number(/localhost:(\d+)/.exec(started)?.[1]);

      await until(
        () => emu.device(RELAYS) && emu.device(CLIMATE),
        "both devices connected through the gateway",
        15_000,
      );
      await until(() => emu.telemetry(CLIMATE).length > 0 || null, "climate telemetry", 15_000);
      const reply = await emu.rpc(RELAYS, "toggle_gpio", { pin: 17 }, { timeoutMs: 5000 });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.deepEqual(reply.body, { success: true, pin: 17, enabled: true });

      const health = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(5000) });
      assert.equal(health.status, 200);
      assert.ok(typeof (await health.json()) === "object");
      const page = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      assert.equal(page.status, 200);
      assert.equal(await page.text(), BUNDLE_TEST_PAGE);
    } finally {
      code = await terminate(child.proc, 25_000);
    }
    assert.equal(code, 0, child.lines.slice(-20).join("\n"));
  });

  test("stack traces name the .ts sources (the entry turns source maps on before the bundle loads)", async () => {
    // A data dir that cannot be created makes start-up fail, and main.ts logs the stack (LOG_LEVEL=debug).
    const notADir = path.join(tmp, "a-file");
    fs.writeFileSync(notADir, "");
    const env = {
      PATH: process.env.PATH ?? "",
      HTTP_PORT: "0",
      DATA_DIR: path.join(notADir, "data"),
      TB_HOST: "127.0.0.1",
      TB_PORT: "1",
      TB_ACCESS_TOKEN: "stack-test-token",
      LOG_LEVEL: "debug",
      NOTIFY_SOCKET: "",
    };
    const child = spawn(process.execPath, [app.entry], { cwd: app.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const output = watchOutput(child);
    const code = await exitWithin(child, 30_000);
    assert.equal(code, 1, output.text());
    assert.match(output.text(), /ENOTDIR/);
    assert.match(output.text(), /at Controller\.start \([^)]*\/server\/controller\.ts:\d+:\d+\)/);
    assert.match(output.text(), /\/server\/main\.ts:\d+:\d+/);
    assert.doesNotMatch(output.text(), /rpi-tb-gateway\.app\.mjs:\d+/, "no frame left pointing into the bundle");
  });

  test("the appliance's bundle with no config and no TB_HOST says how to run, exit 2", async () => {
    const env = {
      PATH: process.env.PATH ?? "",
      HTTP_PORT: "0",
      DATA_DIR: path.join(tmp, "no-demo-data"),
      NOTIFY_SOCKET: "",
    };
    const child = spawn(process.execPath, [app.entry], { cwd: app.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const output = watchOutput(child);
    assert.equal(await exitWithin(child, 30_000), 2, output.text());
    assert.match(output.text(), /no embedded ThingsBoard .*--config FILE.*TB_HOST.*npm start/);
  });

  test("demo mode (no config) starts the inlined emulator and its devices", async () => {
    const dataDir = path.join(tmp, "demo-data");
    const env = {
      PATH: process.env.PATH ?? "",
      HTTP_PORT: "0",
      DATA_DIR: dataDir,
      NOTIFY_SOCKET: "",
      LOG_LEVEL: "info",
    };
    const child = spawn(process.execPath, [app.demoEntry], { cwd: app.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const output = watchOutput(child);
    let code: number | null;
    try {
      await output.waitFor(/Embedded ThingsBoard emulator: MQTT 127\.0\.0\.1:\d+/, 30_000);
      await output.waitFor(/device connected through gateway/, 15_000);
    } finally {
      code = await terminate(child, 25_000);
    }
    assert.equal(code, 0, output.text().slice(-3000));
  });
});
