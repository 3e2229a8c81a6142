#!/usr/bin/env node
// Builds a release package for over-the-air updates (issue 16): what the Pi runs, as one
// versioned tarball to upload to ThingsBoard as a SOFTWARE OTA package with title
// "rpi-tb-gateway" and the same version.
//
//   npm run package -- [--version V] [--arch ARCH] [--node-abi N] [--node-modules DIR] [--out DIR]
//
// The tarball holds ./manifest.json {name, version, arch, nodeAbi, nodeVersion, createdAt} and
// ./app/: package.json, the server bundle (dist/), the page (web/dist/), the production
// node_modules, scripts/ (the OTA guard, check-native, installer), the units and the docs.
// Next to it goes <name>.json with its size and SHA-256 (ThingsBoard computes its own on upload).
//
// Native modules (better-sqlite3, i2c-bus, epoll) must match the Pi's CPU and Node ABI:
//  - for this machine's arch and Node (default), the production packages of this checkout's
//    node_modules are copied (npm ls --omit=dev) and loaded once with check-native.mjs;
//  - for another target (arm64 Pis from an x64 machine) pass --node-modules DIR: a node_modules
//    installed ON THE TARGET (npm ci --omit=dev on a Pi or the virtual-Pi rig with the same Node
//    major); its .node files are checked to be ELF for --arch. Nothing here cross-compiles, and
//    prebuilt downloads from GitHub are not reachable from this build network.
// The unit's guard loads the native modules again on the Pi before switching to the release.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  readSync,
  closeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    version: { type: "string" },
    arch: { type: "string" },
    "node-abi": { type: "string" },
    "node-modules": { type: "string" },
    out: { type: "string" },
  },
  strict: true,
});
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const version = values.version ?? pkg.version;
const arch = values.arch ?? process.arch;
const nodeAbi = values["node-abi"] ?? process.versions.modules;
const out = resolve(values.out ?? join(root, "dist-packages"));
const native = values["node-modules"] ? resolve(values["node-modules"]) : undefined;
const host = arch === process.arch && nodeAbi === process.versions.modules;

function fail(msg) {
  console.error(`package: ${msg}`);
  process.exit(1);
}
if (!/^[A-Za-z0-9._+-]{1,100}$/.test(version)) fail(`--version ${version}: use letters, digits and . _ + - only`);
if (!["arm64", "arm", "x64"].includes(arch)) fail(`--arch ${arch}: expected arm64, arm or x64`);
if (!/^\d+$/.test(nodeAbi)) fail(`--node-abi ${nodeAbi}: expected a number (process.versions.modules on the target)`);
if (!host && !native)
  fail(
    `a package for ${arch} / Node ABI ${nodeAbi} needs --node-modules DIR installed on such a machine (this one is ${process.arch} / ABI ${process.versions.modules})`,
  );

const ELF_MACHINE = { arm64: 183, arm: 40, x64: 62 };
/** Every .node file under dir must be an ELF object for the target CPU. */
function checkElf(dir) {
  const bad = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".node")) {
        const b = Buffer.alloc(20);
        const fd = openSync(p, "r");
        readSync(fd, b, 0, 20, 0);
        closeSync(fd);
        const machine = b.readUInt16LE(18);
        if (b.readUInt32BE(0) !== 0x7f454c46 || machine !== ELF_MACHINE[arch])
          bad.push(`${relative(dir, p)} (ELF machine ${machine})`);
      }
    }
  };
  walk(dir);
  if (bad.length) fail(`native modules not built for ${arch}: ${bad.join(", ")}`);
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
  if (native) {
    cpSync(native, join(app, "node_modules"), { recursive: true });
    checkElf(join(app, "node_modules"));
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
    nodeVersion: host ? process.versions.node : undefined,
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
