// A real Mosquitto broker (Debian package `mosquitto`, installed by .ci/run) started by the test
// set-up on a free loopback port, with its own config in a temp dir, stopped after the test.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { tempDir } from "./tempDir.ts";

export const MOSQUITTO_BIN = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((p) => existsSync(p)) ?? null;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export interface Mosquitto {
  port: number;
  stop(): Promise<void>;
}

/** extraConfig: more lines for the listener block (TLS files, require_certificate...). */
export async function startMosquitto(
  opts: { extraConfig?: string; allowAnonymous?: boolean; timeoutMs?: number } = {},
): Promise<Mosquitto> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  if (!MOSQUITTO_BIN) throw new Error("mosquitto is not installed (apt-get install mosquitto; .ci/run does it)");
  const dir = tempDir("mosquitto-");
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(dir, "mosquitto.conf");
    writeFileSync(
      conf,
      `per_listener_settings false\nallow_anonymous ${opts.allowAnonymous ?? true}\npersistence false\nlog_dest stderr\nlog_type error\nlistener ${port} 127.0.0.1\n${opts.extraConfig ?? ""}\n`,
    );
    const child: ChildProcess = spawn(MOSQUITTO_BIN, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const deadline = Date.now() + timeoutMs;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await canConnect(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (up) {
      return {
        port,
        async stop() {
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 2000);
          await exited;
          clearTimeout(t);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill("SIGKILL");
    await exited;
    if (attempt === 2) throw new Error(`mosquitto did not start on port ${port}: ${stderr.trim()}`);
  }
  throw new Error("unreachable");
}
