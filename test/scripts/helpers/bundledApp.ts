// An app directory laid out like /opt/rpi-tb-gateway after install.sh, with the server bundle
// built by the real scripts/build-server.mjs, but no server/*.ts: what runs must be the bundle
// alone. package.json carries its own version and web/dist its own page, so a test can tell that
// the bundle found them next to itself and not in this checkout.
import fs from "node:fs";
import path from "node:path";
import { spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { REPO } from "./sandbox.ts";
import { tempDir } from "../../fakes/tempDir.ts";

export const BUNDLE_TEST_VERSION = "9.9.9-bundle-test";
export const BUNDLE_TEST_PAGE = "<!doctype html><title>bundled app page</title>\n";

export interface BundledApp {
  /** The app directory (what /opt/rpi-tb-gateway is on the Pi). */
  dir: string;
  /** dir/dist/rpi-tb-gateway.mjs: the file the unit's ExecStart names. */
  entry: string;
  /** dir/dist/rpi-tb-gateway-demo.mjs: the demo (npm start), with the emulator embedded. */
  demoEntry: string;
  /** build-server.mjs's output line. */
  buildOutput: string;
  cleanup(): void;
}

export function buildServer(
  outdir: string,
  extra: string[] = [],
): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(
    process.execPath,
    [path.join(REPO, "scripts", "build-server.mjs"), "--outdir", outdir, ...extra],
    { cwd: REPO, encoding: "utf8", timeout: 60_000 },
  );
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

export function bundledApp(): BundledApp {
  const dir = tempDir("bundled-app-");
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ ...pkg, version: BUNDLE_TEST_VERSION }));
  // Packages resolve from dist/ upwards, as they do from /opt/rpi-tb-gateway/dist on the Pi.
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
  fs.mkdirSync(path.join(dir, "web", "dist"), { recursive: true });
  fs.writeFileSync(path.join(dir, "web", "dist", "index.html"), BUNDLE_TEST_PAGE);
  const built = buildServer(path.join(dir, "dist"));
  if (built.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`build-server.mjs failed (${built.status}): ${built.stderr}`);
  }
  return {
    dir,
    entry: path.join(dir, "dist", "rpi-tb-gateway.mjs"),
    demoEntry: path.join(dir, "dist", "rpi-tb-gateway-demo.mjs"),
    buildOutput: built.stdout,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Collects a child's stdout and stderr; `waitFor(re)` resolves on the first chunk that makes the
 * output match, rejects if the child exits first or after timeoutMs.
 */
export function watchOutput(child: ChildProcess): {
  text(): string;
  waitFor(re: RegExp, timeoutMs: number): Promise<void>;
} {
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  return {
    text: () => out,
    waitFor: (re, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          listeners.delete(check);
          child.off("exit", onExit);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (re.test(out)) done();
        };
        const onExit = (code: number | null) =>
          done(new Error(`child exited (${code}) before output matching ${re}:\n${out.slice(-3000)}`));
        const timer = setTimeout(
          () => done(new Error(`no output matching ${re} within ${timeoutMs} ms:\n${out.slice(-3000)}`)),
          timeoutMs,
        );
        listeners.add(check);
        child.on("exit", onExit);
        check();
      }),
  };
}

/** The child's exit code once it exits by itself; SIGKILL and a rejection after timeoutMs. */
export async function exitWithin(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child still running after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const [code] = await Promise.race([exited, late]);
    return code;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM, then the exit code within timeoutMs (see exitWithin). */
export function terminate(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  return exitWithin(child, timeoutMs);
}
