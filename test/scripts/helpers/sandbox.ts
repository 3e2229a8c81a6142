// A throw-away root file system plus fake system tools for running the real shell scripts
// (install.sh, uninstall.sh, first boot) without touching the machine: every system-changing
// command the scripts run (systemctl, useradd, apt-get, npm, chown, ...) is a fake on PATH that
// appends its command line to a log, and every path lives under a temp --root.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";

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
    printf '%s\\n' "npm-cwd $(basename "$PWD")" >>"$FAKE_LOG"
    [ "\${FAKE_NPM_FAIL:-0}" = 1 ] && { echo "npm ERR! network" >&2; exit 1; }
    mkdir -p node_modules
    case "$1" in ci) touch node_modules/.fake-ci ;; rebuild) touch node_modules/.fake-rebuild ;; esac ;;
  node)
    if [ "\${1:-}" = scripts/build-web.mjs ]; then mkdir -p web/dist && touch web/dist/index.html; exit 0; fi
    if [ "\${1:-}" = scripts/build-server.mjs ]; then
      [ "\${FAKE_BUILD_FAIL:-0}" = 1 ] && { echo "✘ [ERROR] Could not resolve" >&2; exit 1; }
      mkdir -p dist && touch dist/rpi-tb-gateway.mjs; exit 0
    fi
    sed -i '$d' "$FAKE_LOG" # version probes are not system changes: keep them out of the log
    if [ "\${1:-}" = -v ] && [ -n "\${FAKE_NODE_VERSION:-}" ]; then echo "$FAKE_NODE_VERSION"; exit 0; fi
    exec "$REAL_NODE" "$@" ;;
  ssh-keygen)
    prefix=""
    while [ $# -gt 0 ]; do [ "$1" = -f ] && prefix="$2"; shift; done
    mkdir -p "$prefix/etc/ssh" && touch "$prefix/etc/ssh/ssh_host_ed25519_key" ;;
esac
exit 0
`;

export const DEFAULT_FAKES = ["systemctl", "useradd", "groupadd", "usermod", "userdel", "apt-get", "dpkg-query", "npm", "chown", "node", "ssh-keygen", "hostname"];

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
}

export class Sandbox {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "rpi-scripts-"));
  readonly root = path.join(this.dir, "root");
  readonly bin = path.join(this.dir, "bin");
  readonly log = path.join(this.dir, "calls.log");

  constructor(fakes: string[] = DEFAULT_FAKES) {
    fs.mkdirSync(this.root);
    fs.mkdirSync(this.bin);
    const fake = path.join(this.dir, "fake.sh");
    fs.writeFileSync(fake, FAKE, { mode: 0o755 });
    for (const f of fakes) this.addFake(f);
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
        LANG: "C",
        FAKE_LOG: this.log,
        REAL_NODE: process.execPath,
        ...env,
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    const calls = fs.readFileSync(this.log, "utf8").split("\n").filter((l) => l.length > 0);
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
  fs.cpSync(path.join(REPO, "scripts"), path.join(src, "scripts"), { recursive: true, filter: (s) => !s.includes(`${path.sep}emulator`) });
  fs.writeFileSync(path.join(src, "package.json"), JSON.stringify({ name: "rpi-tb-gateway", type: "module" }));
  fs.writeFileSync(path.join(src, "package-lock.json"), opts.lock ?? '{"lockfileVersion":3}');
  fs.writeFileSync(path.join(src, "server", "main.ts"), 'console.log("main");\n');
  fs.writeFileSync(path.join(src, "scripts", "build-web.mjs"), "// stand-in\n");
  fs.writeFileSync(path.join(src, "scripts", "build-server.mjs"), "// stand-in\n");
  // A bundle left from a local `npm start`: the installer builds its own.
  fs.mkdirSync(path.join(src, "dist"), { recursive: true });
  fs.writeFileSync(path.join(src, "dist", "rpi-tb-gateway.mjs"), "// stale local build\n");
  if (opts.example !== null) fs.writeFileSync(path.join(src, "config.example.yaml"), opts.example ?? "version: 1\n# example config\n");
  // Things that must never reach /opt.
  fs.mkdirSync(path.join(src, "node_modules", "dev-only"), { recursive: true });
  fs.mkdirSync(path.join(src, ".git"), { recursive: true });
  fs.writeFileSync(path.join(src, ".git", "HEAD"), "ref: refs/heads/main\n");
  fs.mkdirSync(path.join(src, "data"), { recursive: true });
  fs.writeFileSync(path.join(src, "data", "credentials.json"), "{}");
  return src;
}

/** Installed app directory inside a sandbox root. */
export const APP = "opt/rpi-tb-gateway";
