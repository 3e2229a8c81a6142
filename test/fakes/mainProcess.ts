// server/main.ts (or a script) as a child process with its stdout and stderr kept apart, for the
// tests of what a user sees: start-up messages, exit codes, the setup-code banner.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { createServer, type AddressInfo, type Server } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface MainProcess {
  proc: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** Resolves once stdout matches; rejects if the process exits first or after timeoutMs. */
  waitStdout(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL if it has not exited after 20 s. */
  stop(): Promise<number | null>;
}

/** `node --import tsx <entry> ...args` in the checkout, with a clean LOG_LEVEL and no systemd socket. */
export function runTs(entry: string, args: string[], env: Record<string, string> = {}): MainProcess {
  const proc = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      NOTIFY_SOCKET: "",
      LOG_LEVEL: "",
      HARDWARE: "",
      HTTP_PORT: "",
      DATA_DIR: "",
      TB_HOST: "",
      DASHBOARD_PASSWORD: "",
      ...env,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  proc.stdout.on("data", (b: Buffer) => {
    out += b.toString();
    for (const w of waiters) w();
  });
  proc.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const exited = once(proc, "exit").then(([code]) => code as number | null);
  const waitStdout = (re: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (!m) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `no stdout matching ${re} within ${timeoutMs} ms; stdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
      exited.then((code) => {
        if (!waiters.has(check)) return;
        waiters.delete(check);
        clearTimeout(timer);
        reject(
          new Error(
            `exited (${code}) before stdout matched ${re}; stdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-2000)}`,
          ),
        );
      }, reject);
    });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { proc, stdout: () => out, stderr: () => err, exited, waitStdout, stop };
}

/** A TCP port held open by this process (for "port taken"), and a way to let it go. */
export async function occupyPort(
  host = "127.0.0.1",
): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return { port, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A port nothing listens on (taken and released; good enough on loopback for a refused connect). */
export async function closedPort(): Promise<number> {
  const held = await occupyPort();
  await held.close();
  return held.port;
}
