import { test, describe, after, mock } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import {
  createSdNotifier,
  findExecutable,
  startWatchdog,
  watchdogIntervalFromEnv,
  type NotifySender,
  type SdNotifier,
} from "../../../server/util/sdNotify.ts";

// A stand-in for the service manager's end of $NOTIFY_SOCKET: binds an AF_UNIX datagram socket,
// prints every datagram as a JSON line, and closes passed fds (which completes BARRIER=1 waits
// exactly as systemd does).
const RECEIVER = `
import socket, sys, os, json, array
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + addr[1:] if addr.startswith("@") else addr)
print(json.dumps("LISTENING"), flush=True)
while True:
    msg, anc, flags, _ = s.recvmsg(65536, socket.CMSG_SPACE(64))
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(json.dumps(msg.decode()), flush=True)
`;
import { tempDir } from "../../fakes/tempDir.ts";

const python = findExecutable("python3", process.env.PATH);
const systemdNotify = findExecutable("systemd-notify", process.env.PATH);
const tmp = tempDir("sdnotify-");
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const c of children) c.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Receiver {
  next(timeoutMs?: number): Promise<string>;
}

async function startReceiver(address: string): Promise<Receiver> {
  const child = spawn(python ?? "python3", ["-c", RECEIVER, address]);
  children.push(child);
  const lines: string[] = [];
  const waiters: Array<(l: string) => void> = [];
  createInterface({ input: child.stdout }).on("line", (raw) => {
    const line = JSON.parse(raw) as string;
    const w = waiters.shift();
    if (w) w(line);
    else lines.push(line);
  });
  const next = (timeoutMs = 5000) =>
    new Promise<string>((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      const t = setTimeout(() => reject(new Error(`no datagram within ${timeoutMs} ms`)), timeoutMs);
      waiters.push((v) => {
        clearTimeout(t);
        resolve(v);
      });
    });
  assert.equal(await next(), "LISTENING");
  return { next };
}

/** Next datagram that is not the BARRIER=1 systemd-notify and our python sender append. */
async function nextMessage(r: Receiver): Promise<string> {
  for (;;) {
    const m = await r.next();
    if (m !== "BARRIER=1") return m;
  }
}

async function exercise(sender: NotifySender, address: string): Promise<void> {
  const rx = await startReceiver(address);
  const n: SdNotifier = createSdNotifier(
    { NOTIFY_SOCKET: address, PATH: process.env.PATH, WATCHDOG_USEC: "30000000" },
    { sender },
  );
  assert.equal(n.enabled, true);
  assert.equal(n.sender, sender);
  assert.equal(n.watchdogIntervalMs, 15_000);
  n.ready();
  n.status("connected to tb.example.com\ninjected=1");
  n.watchdog();
  n.stopping();
  await n.flush();
  assert.equal(await nextMessage(rx), "READY=1");
  assert.equal(await nextMessage(rx), "STATUS=connected to tb.example.com injected=1");
  assert.equal(await nextMessage(rx), "WATCHDOG=1");
  assert.equal(await nextMessage(rx), "STOPPING=1");
  assert.deepEqual(n.stats(), { sent: 4, failed: 0, dropped: 0 });
}

describe("sd_notify delivery to a real AF_UNIX datagram socket", () => {
  const noPython = python ? false : "python3 not installed: no receiver for the test";
  test(
    "systemd-notify, socket path",
    { skip: noPython || (systemdNotify ? false : "systemd-notify not installed") },
    async () => {
      await exercise("systemd-notify", path.join(tmp, "notify-a.sock"));
    },
  );
  test(
    "systemd-notify, abstract socket (@name)",
    { skip: noPython || (systemdNotify ? false : "systemd-notify not installed") },
    async () => {
      await exercise("systemd-notify", `@rpi-tb-gw-test-${process.pid}-a`);
    },
  );
  test("python3 fallback, socket path", { skip: noPython }, async () => {
    await exercise("python3", path.join(tmp, "notify-b.sock"));
  });
  test("python3 fallback, abstract socket (@name)", { skip: noPython }, async () => {
    await exercise("python3", `@rpi-tb-gw-test-${process.pid}-b`);
  });

  test("a socket nobody listens on counts a failure and never throws", { skip: noPython }, async () => {
    const n = createSdNotifier(
      { NOTIFY_SOCKET: path.join(tmp, "nobody.sock"), PATH: process.env.PATH },
      { sender: "python3" },
    );
    n.ready();
    await n.flush();
    assert.deepEqual(n.stats(), { sent: 0, failed: 1, dropped: 0 });
  });
});

describe("sd_notify without systemd", () => {
  test("no NOTIFY_SOCKET: every call is a no-op and nothing is spawned", async () => {
    const n = createSdNotifier({ PATH: process.env.PATH, WATCHDOG_USEC: "30000000" });
    assert.equal(n.enabled, false);
    assert.equal(n.sender, null);
    assert.equal(n.watchdogIntervalMs, null);
    n.ready();
    n.watchdog();
    n.status("x");
    n.stopping();
    await n.flush();
    assert.deepEqual(n.stats(), { sent: 0, failed: 0, dropped: 0 });
  });

  test("no sender on PATH: disabled with one warning", () => {
    const warnings: string[] = [];
    const logger = {
      warn: (m: string) => warnings.push(m),
    } as unknown as import("../../../server/util/logger.ts").Logger;
    const n = createSdNotifier(
      { NOTIFY_SOCKET: "/run/x", PATH: tmp },
      { sender: "python3-does-not-exist" as NotifySender, logger },
    );
    assert.equal(n.enabled, false);
    assert.equal(warnings.length, 1);
  });

  test("watchdog interval: half of WATCHDOG_USEC, only for our own PID", () => {
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: "30000000" }), 15_000);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: String(process.pid) }), 15_000);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "1" }, 4242), null);
    assert.equal(watchdogIntervalFromEnv({ WATCHDOG_USEC: "abc" }), null);
    assert.equal(watchdogIntervalFromEnv({}), null);
  });
});

describe("startWatchdog", () => {
  function fakeNotifier(intervalMs: number | null): SdNotifier & { pings: number } {
    const f = {
      pings: 0,
      ready() {},
      watchdog() {
        f.pings++;
      },
      stopping() {},
      status() {},
      watchdogIntervalMs: intervalMs,
      enabled: true,
      sender: null,
      flush: () => Promise.resolve(),
      stats: () => ({ sent: 0, failed: 0, dropped: 0 }),
    };
    return f;
  }

  test("pings every interval while healthy, withholds pings while unhealthy, stops on request", () => {
    mock.timers.enable({ apis: ["setInterval"] });
    try {
      const n = fakeNotifier(15_000);
      let healthy = true;
      const stop = startWatchdog(n, () => healthy);
      mock.timers.tick(15_000);
      mock.timers.tick(15_000);
      assert.equal(n.pings, 2);
      healthy = false;
      mock.timers.tick(15_000);
      assert.equal(n.pings, 2);
      stop();
      healthy = true;
      mock.timers.tick(60_000);
      assert.equal(n.pings, 2);
    } finally {
      mock.timers.reset();
    }
  });

  test("a throwing health check counts as unhealthy; no watchdog armed means no timer", () => {
    mock.timers.enable({ apis: ["setInterval"] });
    try {
      const n = fakeNotifier(1000);
      const stop = startWatchdog(n, () => {
        throw new Error("boom");
      });
      mock.timers.tick(5000);
      assert.equal(n.pings, 0);
      stop();
      const idle = fakeNotifier(null);
      startWatchdog(idle)();
      mock.timers.tick(5000);
      assert.equal(idle.pings, 0);
    } finally {
      mock.timers.reset();
    }
  });
});
