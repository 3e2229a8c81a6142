#!/usr/bin/env node
// Runs an arm64 release package on this x86-64 machine (issue 16): the official Node 24 arm64
// binary under qemu user-mode emulation loads the package's cross-built native modules, does one
// real thing with each, and starts the demo, whose dashboard is fetched over HTTP.
//
//   npm run test:arm64 [-- --package FILE.tar.gz] [-- --keep]
//
// Without --package it builds one first (npm run package -- --arch arm64: the cross build, cached
// in ~/.cache/rpi-tb-gateway). Installs g++-aarch64-linux-gnu and qemu-user when missing (as root).
// Prints each check with its time; exits 1 when one fails.
//
// What this proves: the arm64 CPU (as qemu emulates it, ARMv8-A) runs Node 24's arm64 build with
// these binaries against Debian's arm64 glibc. Not a Pi: system calls go to this machine's
// x86-64 kernel, and there are no /dev/gpiochip*, /dev/i2c-* or /sys/class/gpio of a Pi, so the
// GPIO and I2C probes stop at "the driver reached the kernel" (docs/raspberry-pi.md).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { TARGETS, cacheRoot, ensureHostPackages, fetchNodeRuntime, foreignBinaries } from "./lib/crossModules.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: { package: { type: "string" }, keep: { type: "boolean" } },
  strict: true,
});
const { qemu, compilerPackages } = TARGETS.arm64;
const work = mkdtempSync(join(tmpdir(), "rpi-tb-gateway-arm64-"));
const started = Date.now();
let failed = 0;

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** Runs one named check, prints ok/FAIL with its time; returns its result (undefined on failure). */
async function check(name, fn) {
  const t = Date.now();
  try {
    const detail = await fn();
    console.log(`ok    ${name}${detail ? `: ${detail}` : ""} (${secs(Date.now() - t)})`);
    return detail ?? true;
  } catch (err) {
    failed++;
    console.log(`FAIL  ${name}: ${err instanceof Error ? err.message : String(err)} (${secs(Date.now() - t)})`);
    return undefined;
  }
}

/** The arm64 node under qemu-user: the cross libc is its root for the dynamic loader. */
let nodeDir = "";
const armNode = (args) => [qemu.command, ["-L", qemu.sysroot, join(nodeDir, "bin", "node"), ...args]];
function runArm(args, opts = {}) {
  const [cmd, argv] = armNode(args);
  const r = spawnSync(cmd, argv, { encoding: "utf8", timeout: 180_000, ...opts });
  if (r.status !== 0)
    throw new Error(`exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout || String(r.error)).trim().slice(-400)}`);
  return r.stdout.trim();
}

try {
  await check("host packages (qemu-user, cross compiler)", () => {
    ensureHostPackages([qemu.package, ...(values.package ? [] : compilerPackages)], (m) => console.log(`      ${m}`));
  });
  const file = values.package
    ? values.package
    : await check("npm run package -- --arch arm64", () => {
        const out = join(work, "out");
        const r = spawnSync(process.execPath, [join(root, "scripts", "package.mjs"), "--arch", "arm64", "--out", out], {
          cwd: root,
          encoding: "utf8",
          timeout: 1_800_000,
        });
        if (r.status !== 0) throw new Error(r.stderr.trim() || r.stdout.trim());
        const line = r.stdout.split("\n").find((l) => l.endsWith(".tar.gz"));
        if (!line) throw new Error(`no package named in its output:\n${r.stdout}`);
        return line.trim();
      });
  if (!file) throw new Error("no package to test");

  const app = join(work, "release", "app");
  const manifest = await check("unpack", () => {
    mkdirSync(join(work, "release"));
    execFileSync("tar", ["-xzf", file, "-C", join(work, "release")]);
    const m = JSON.parse(readFileSync(join(work, "release", "manifest.json"), "utf8"));
    if (m.arch !== "arm64") throw new Error(`manifest arch ${m.arch}, not arm64`);
    const size = (statSync(file).size / 1048576).toFixed(1);
    return `${m.name} ${m.version}, linux-${m.arch}, Node ${m.nodeVersion ?? "?"} ABI ${m.nodeAbi}, ${size} MB`;
  });
  if (!manifest) throw new Error("cannot go on without the release");
  const m = JSON.parse(readFileSync(join(work, "release", "manifest.json"), "utf8"));

  await check("every ELF file in node_modules is arm64", () => {
    const bad = foreignBinaries(join(app, "node_modules"), "arm64");
    if (bad.length) throw new Error(bad.join(", "));
  });
  const runtime = await check(`Node ${m.nodeVersion ?? "24"} linux-arm64 from the npm registry (or the cache)`, () => {
    const node = fetchNodeRuntime({ arch: "arm64", spec: m.nodeVersion ?? "24", cache: cacheRoot(), log: () => {} });
    nodeDir = node.dir;
    return node.dir;
  });
  if (!runtime) throw new Error("no arm64 Node to run");

  await check("arm64 node runs under qemu", () => {
    const out = runArm(["-p", "JSON.stringify([process.arch, process.version, process.versions.modules])"]);
    const [cpu, version, abi] = JSON.parse(out);
    if (cpu !== "arm64" || abi !== m.nodeAbi) throw new Error(`${out}: expected arm64 with ABI ${m.nodeAbi}`);
    return `${version} ${cpu}, ABI ${abi}`;
  });
  for (const name of ["better-sqlite3", "epoll", "i2c-bus"])
    await check(`check-native probe: ${name}`, () =>
      runArm([join(app, "scripts", "check-native.mjs"), "--probe", name, app]),
    );
  const probe = join(root, "scripts", "lib", "nativeProbes.cjs");
  execFileSync("mkfifo", [join(work, "probe.fifo")]);
  for (const name of ["sqlite-file", "epoll", "i2c", "onoff"])
    await check(`native call: ${name}`, () => runArm([probe, name, app, work]));
  await check("appliance bundle loads (dist/rpi-tb-gateway.mjs --help)", () => {
    const out = runArm([join(app, "dist", "rpi-tb-gateway.mjs"), "--help"], { cwd: app });
    if (!/Usage/i.test(out)) throw new Error(`no usage text: ${out.slice(0, 200)}`);
  });
  await demo(app);
} catch (err) {
  failed++;
  console.log(`FAIL  ${err instanceof Error ? err.message : String(err)}`);
} finally {
  if (values.keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`${failed ? `${failed} check(s) FAILED` : "all checks passed"} in ${secs(Date.now() - started)}`);
process.exit(failed ? 1 : 0);

/** Starts the demo bundle under qemu, waits for the dashboard and the MQTT connection, fetches the page, stops it. */
async function demo(app) {
  const data = join(work, "data");
  mkdirSync(data);
  const [cmd, argv] = armNode([join(app, "dist", "rpi-tb-gateway-demo.mjs")]);
  const t0 = Date.now();
  const child = spawn(cmd, argv, {
    cwd: app,
    env: { ...process.env, HTTP_PORT: "0", DATA_DIR: data, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  /** exit code or signal once the demo has exited. */
  let exitStatus;
  const waiters = [];
  const onData = (d) => {
    output += d;
    for (const w of waiters) w();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise((res) =>
    child.on("exit", (code, signal) => {
      exitStatus = code ?? signal;
      for (const w of waiters) w();
      res(exitStatus);
    }),
  );
  /** Resolves with the first match of re in the output; rejects on exit or after limitMs. */
  const waitFor = (re, limitMs) =>
    new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`not within ${secs(limitMs)}:\n${output.slice(-600)}`)), limitMs);
      const test = () => {
        const hit = re.exec(output);
        if (hit || exitStatus !== undefined) clearTimeout(timer);
        if (hit) res(hit);
        else if (exitStatus !== undefined) rej(new Error(`demo exited (${exitStatus}):\n${output.slice(-600)}`));
      };
      waiters.push(test);
      test();
    });
  try {
    const url = await check("demo: dashboard listening", async () => {
      const [, u] = await waitFor(/Dashboard: (http:\/\/\S+)/, 300_000);
      return `${u} after ${secs(Date.now() - t0)} from start`;
    });
    await check("demo: connected to the embedded ThingsBoard over MQTT", async () => {
      const [line] = await waitFor(/connected to [^"]+/, 300_000);
      return `${line} after ${secs(Date.now() - t0)} from start`;
    });
    if (typeof url === "string")
      await check("demo: GET / serves the dashboard page", async () => {
        const href = url.split(" ")[0].replace("localhost", "127.0.0.1");
        const res = await fetch(href, { signal: AbortSignal.timeout(60_000) });
        const body = await res.text();
        if (res.status !== 200 || !body.includes("<title>Pi gateway</title>"))
          throw new Error(`HTTP ${res.status}: ${body.slice(0, 200)}`);
        return `HTTP 200, ${body.length} bytes`;
      });
    await check("demo: stops on SIGTERM", async () => {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`exit ${code}:\n${output.slice(-400)}`);
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
