// A throw-away root file system plus fake system tools for running the real shell scripts
// (install.sh, uninstall.sh, first boot) without touching the machine: every system-changing
// command the scripts run (systemctl, useradd, apt-get, npm, chown, ...) is a fake on PATH that
// appends its command line to a log, and every path lives under a temp --root.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { tempDir } from "../../fakes/tempDir.ts";

export const REPO = path.resolve(import.meta.dirname, "../../..");

const FAKE = `#!/usr/bin/env bash
name="$(basename "$0")"
printf '%s\\n' "$name $*" >>"$FAKE_LOG"
case "$name" in
  systemctl)
    for a in "$@"; do [ "$a" = is-active ] && exit "\${FAKE_ACTIVE:-3}"; done ;;
  dpkg-query)
    pkg="\${!#}"
    for m in \${FAKE_MISSING:-}; do [ "$m" = "$pkg" ] && exit 1; done
    printf installed ;;
  npm)
    # Where npm ran (the releases/ dir of the installer) and where its cache would go.
    printf 'npm-cwd %s cache=%s\\n' "$(basename "$(dirname "$PWD")")" "\${npm_config_cache:-}" >>"$FAKE_LOG"
    mkdir -p node_modules
    case "$1" in
      ci)
        [ "\${FAKE_NPM_FAIL:-0}" = 1 ] && { echo "npm ERR! network" >&2; exit 1; }
        touch node_modules/.fake-ci
        cp -R "$FAKE_STAND_INS/ok/." node_modules/
        [ "\${FAKE_BROKEN_NATIVE:-0}" = 1 ] && cp -R "$FAKE_STAND_INS/broken/." node_modules/ ;;
      rebuild)
        touch node_modules/.fake-rebuild
        # Like prebuild-install's extractor: it writes into the existing binary file, so through
        # a hard link it would rewrite the running release's copy too (issue 18).
        for f in node_modules/*/build/Release/*.node; do [ -f "$f" ] && printf 'rebuilt\\n' >"$f"; done
        [ "\${FAKE_NPM_FAIL:-0}" = 1 ] && { echo "gyp ERR! build error" >&2; exit 1; } ;;
    esac ;;
  uname)
    sed -i '$d' "$FAKE_LOG" # a query, not a change
    if [ "\${1:-}" = -m ] && [ -n "\${FAKE_MACHINE:-}" ]; then echo "$FAKE_MACHINE"; exit 0; fi
    exec /usr/bin/uname "$@" ;;
  node)
    if [ "\${1:-}" = scripts/build-web.mjs ]; then mkdir -p web/dist && touch web/dist/index.html; exit 0; fi
    # The real native-module check, on the stand-in modules fake npm installed.
    if [ "\${1:-}" = scripts/check-native.mjs ]; then exec "$REAL_NODE" "$@"; fi
    if [ "\${1:-}" = scripts/build-server.mjs ]; then
      [ "\${FAKE_BUILD_FAIL:-0}" = 1 ] && { echo "✘ [ERROR] Could not resolve" >&2; exit 1; }
      mkdir -p dist && touch dist/rpi-tb-gateway.mjs; exit 0
    fi
    sed -i '$d' "$FAKE_LOG" # version probes are not system changes: keep them out of the log
    if [ "\${1:-}" = -v ] && [ -n "\${FAKE_NODE_VERSION:-}" ]; then echo "$FAKE_NODE_VERSION"; exit 0; fi
    # The installer's ABI probe: node -p 'process.versions.modules + "-" + process.arch'.
    if [ "\${1:-}" = -p ] && [ -n "\${FAKE_NODE_ABI:-}" ]; then echo "$FAKE_NODE_ABI"; exit 0; fi
    exec "$REAL_NODE" "$@" ;;
  ssh-keygen)
    prefix=""
    while [ $# -gt 0 ]; do [ "$1" = -f ] && prefix="$2"; shift; done
    mkdir -p "$prefix/etc/ssh" && touch "$prefix/etc/ssh/ssh_host_ed25519_key" ;;
esac
exit 0
`;

export const DEFAULT_FAKES = [
  "systemctl",
  "useradd",
  "groupadd",
  "usermod",
  "userdel",
  "apt-get",
  "dpkg-query",
  "npm",
  "chown",
  "node",
  "ssh-keygen",
  "hostname",
  "uname",
];

/**
 * What fake `npm ci` installs: JS stand-ins for the three native modules (enough for
 * scripts/check-native.mjs to load and probe), each with a build/Release/*.node file, and the
 * deliberately broken variant (FAKE_BROKEN_NATIVE=1) whose binding is a file that is no shared
 * object, so loading it is a real dlopen failure.
 */
const STAND_INS: Record<string, string> = {
  "ok/better-sqlite3/package.json": '{"name":"better-sqlite3","main":"index.js"}',
  "ok/better-sqlite3/index.js":
    'module.exports = class Database { prepare() { return { get: () => ({ v: "stand-in" }) }; } close() {} };\n',
  "ok/better-sqlite3/build/Release/better_sqlite3.node": "built by npm ci\n",
  "ok/epoll/package.json": '{"name":"epoll","main":"index.js"}',
  "ok/epoll/index.js": "exports.Epoll = class Epoll {};\n",
  "ok/epoll/build/Release/epoll.node": "built by npm ci\n",
  "ok/i2c-bus/package.json": '{"name":"i2c-bus","main":"index.js"}',
  "ok/i2c-bus/index.js": "exports.openSync = () => ({});\n",
  "ok/i2c-bus/build/Release/i2c.node": "built by npm ci\n",
  "broken/i2c-bus/index.js": 'module.exports = require("./build/Release/i2c.node");\n',
  "broken/i2c-bus/build/Release/i2c.node": "half-written: not a shared object\n",
};

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
}

export class Sandbox {
  readonly dir = tempDir("rpi-scripts-");
  readonly root = path.join(this.dir, "root");
  readonly bin = path.join(this.dir, "bin");
  readonly log = path.join(this.dir, "calls.log");

  constructor(fakes: string[] = DEFAULT_FAKES) {
    fs.mkdirSync(this.root);
    fs.mkdirSync(this.bin);
    const fake = path.join(this.dir, "fake.sh");
    fs.writeFileSync(fake, FAKE, { mode: 0o755 });
    for (const f of fakes) this.addFake(f);
    for (const [rel, content] of Object.entries(STAND_INS)) {
      const abs = path.join(this.dir, "stand-ins", rel);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, content);
    }
  }

  addFake(name: string): void {
    fs.symlinkSync(path.join(this.dir, "fake.sh"), path.join(this.bin, name));
  }

  /** Path inside the fake root. */
  r(p: string): string {
    return path.join(this.root, p);
  }

  write(p: string, content: string, mode?: number): string {
    const abs = this.r(p);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content, mode === undefined ? undefined : { mode });
    return abs;
  }

  exists(p: string): boolean {
    return fs.existsSync(this.r(p));
  }

  read(p: string): string {
    return fs.readFileSync(this.r(p), "utf8");
  }

  /** Runs a script with the fakes first on PATH; returns only the calls made by this run. */
  run(script: string, args: string[], env: Record<string, string> = {}): RunResult {
    fs.writeFileSync(this.log, "");
    const res = spawnSync("bash", [script, ...args], {
      env: {
        PATH: `${this.bin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
        HOME: this.dir,
        // The run's TMPDIR (scripts/run-tests.mjs checks it for leftovers), not the default /tmp.
        TMPDIR: os.tmpdir(),
        LANG: "C",
        FAKE_LOG: this.log,
        REAL_NODE: process.execPath,
        FAKE_STAND_INS: path.join(this.dir, "stand-ins"),
        ...env,
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    const calls = fs
      .readFileSync(this.log, "utf8")
      .split("\n")
      .filter((l) => l.length > 0);
    return { status: res.status, stdout: res.stdout, stderr: res.stderr, calls };
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A minimal checkout to install from: the real scripts (what is under test) plus a stand-in
 * app, so the test does not depend on what other parts of the tree look like today.
 */
export function fakeCheckout(dir: string, opts: { example?: string | null; lock?: string } = {}): string {
  const src = path.join(dir, "checkout");
  fs.mkdirSync(path.join(src, "server"), { recursive: true });
  fs.cpSync(path.join(REPO, "scripts"), path.join(src, "scripts"), {
    recursive: true,
    filter: (s) => !s.includes(`${path.sep}emulator`),
  });
  fs.writeFileSync(path.join(src, "package.json"), JSON.stringify({ name: "rpi-tb-gateway", type: "module" }));
  fs.writeFileSync(path.join(src, "package-lock.json"), opts.lock ?? '{"lockfileVersion":3}');
  fs.writeFileSync(path.join(src, "server", "main.ts"), 'console.log("main");\n');
  fs.writeFileSync(path.join(src, "scripts", "build-web.mjs"), "// stand-in\n");
  fs.writeFileSync(path.join(src, "scripts", "build-server.mjs"), "// stand-in\n");
  // A bundle left from a local `npm start`: the installer builds its own.
  fs.mkdirSync(path.join(src, "dist"), { recursive: true });
  fs.writeFileSync(path.join(src, "dist", "rpi-tb-gateway.mjs"), "// stale local build\n");
  if (opts.example !== null) fs.writeFileSync(path.join(src, "config.example.yaml"), opts.example ?? EXAMPLE_CONFIG);
  // Things that must never reach /opt.
  fs.mkdirSync(path.join(src, "node_modules", "dev-only"), { recursive: true });
  fs.mkdirSync(path.join(src, ".git"), { recursive: true });
  fs.writeFileSync(path.join(src, ".git", "HEAD"), "ref: refs/heads/main\n");
  fs.mkdirSync(path.join(src, "data"), { recursive: true });
  fs.writeFileSync(path.join(src, "data", "credentials.json"), "{}");
  return src;
}

/** The stand-in checkout's example config: like the real one, it holds a placeholder. */
export const EXAMPLE_CONFIG =
  "version: 1\n# example config\nthingsboard:\n  accessToken: REPLACE_WITH_GATEWAY_ACCESS_TOKEN\n";
/** A config the user has edited: no placeholder left. */
export const EDITED_CONFIG = "thingsboard:\n  host: tb.local # edited by the user\n  accessToken: A1B2C3\n";

/** The application's top directory inside a sandbox root, and the release the units run. */
export const APP = "opt/rpi-tb-gateway";
export const CURRENT = `${APP}/current`;
