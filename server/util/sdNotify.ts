// systemd service notifications (sd_notify(3)) without a native module.
//
// The protocol is one AF_UNIX datagram of "KEY=value\n" lines sent to $NOTIFY_SOCKET (a file
// path, or an abstract address written with a leading "@"). Node's dgram has no AF_UNIX support
// and net only does stream sockets, so the datagram is sent by a short-lived helper process:
//
//  1. `systemd-notify KEY=value...` when it is installed (every systemd machine has it).
//     Since systemd 246 it sends BARRIER=1 after the message and waits until the manager has
//     processed it, which closes the classic race where the helper exits before systemd can
//     look up its cgroup (systemd-notify(1), "--no-block"). The helper is not the main PID, so
//     the unit needs NotifyAccess=all (scripts/rpi-tb-gateway.service).
//  2. Otherwise a python3 one-liner that does the same: the message, then a BARRIER=1 datagram
//     carrying a pipe fd, then a wait for the fd to be closed by the receiver.
//  3. Neither present: notifications are disabled and that is logged once.
//
// Every call is fire-and-forget: messages go out one at a time, in order; a WATCHDOG=1 already
// waiting in the queue is not queued twice, so a slow helper cannot pile up processes.
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { Logger } from "./logger.ts";

export type NotifySender = "systemd-notify" | "python3";

export interface SdNotifier {
  ready(): void;
  watchdog(): void;
  stopping(): void;
  status(text: string): void;
  /** Half of WATCHDOG_USEC (systemd.service(5) advises pinging at half the timeout); null when no watchdog is armed for this process. */
  readonly watchdogIntervalMs: number | null;
  /** Whether messages are actually sent (NOTIFY_SOCKET set and a sender found). */
  readonly enabled: boolean;
  readonly sender: NotifySender | null;
  /** Resolves once every message queued so far was handed to the helper (or failed). */
  flush(): Promise<void>;
  stats(): { sent: number; failed: number; dropped: number };
}

export interface SdNotifyOptions {
  /** Force a sender (tests); default: systemd-notify, else python3. */
  sender?: NotifySender;
  logger?: Logger;
  /** Kill a helper that takes longer than this (systemd-notify itself gives up waiting after 5 s). */
  helperTimeoutMs?: number;
}

const MAX_QUEUE = 32;

// The receiver closes the passed fd once it has processed everything sent before it; poll()
// then reports POLLHUP on the read end (sd_notify_barrier(3)).
const PY_SENDER = [
  "import os,socket,sys,array,select",
  "a=os.environ['NOTIFY_SOCKET']",
  "a='\\0'+a[1:] if a.startswith('@') else a",
  "s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)",
  "s.connect(a)",
  "s.send(sys.argv[1].encode())",
  "r,w=os.pipe()",
  "s.sendmsg([b'BARRIER=1'],[(socket.SOL_SOCKET,socket.SCM_RIGHTS,array.array('i',[w]))])",
  "os.close(w)",
  "p=select.poll()",
  "p.register(r,0)",
  "p.poll(5000)",
].join("\n");

/** First executable named `name` on PATH (plus /usr/bin and /bin, which systemd's default PATH has). */
export function findExecutable(name: string, pathEnv: string | undefined): string | null {
  const dirs = [...(pathEnv ?? "").split(delimiter).filter((d) => d.length > 0), "/usr/bin", "/bin"];
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* try the next directory */
    }
  }
  return null;
}

/** Watchdog ping interval for this process, from WATCHDOG_USEC / WATCHDOG_PID (sd_watchdog_enabled(3)). */
export function watchdogIntervalFromEnv(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && env.WATCHDOG_PID !== String(pid)) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

/** A newline would start a new KEY=value line, so status text is flattened. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").slice(0, 1000);
}

export function createSdNotifier(env: NodeJS.ProcessEnv = process.env, opts: SdNotifyOptions = {}): SdNotifier {
  const socket = env.NOTIFY_SOCKET;
  const watchdogIntervalMs = socket ? watchdogIntervalFromEnv(env) : null;
  const log = opts.logger;
  let sender: NotifySender | null = null;
  let bin: string | null = null;
  if (socket) {
    const order: NotifySender[] = opts.sender ? [opts.sender] : ["systemd-notify", "python3"];
    for (const s of order) {
      bin = findExecutable(s, env.PATH);
      if (bin) {
        sender = s;
        break;
      }
    }
    if (!sender)
      log?.warn(
        "NOTIFY_SOCKET is set but neither systemd-notify nor python3 was found: systemd notifications are off",
        { socket },
      );
  }

  const queue: string[][] = [];
  let running: Promise<void> | null = null;
  let sent = 0;
  let failed = 0;
  let dropped = 0;

  function runHelper(lines: string[]): Promise<void> {
    const childEnv: NodeJS.ProcessEnv = { NOTIFY_SOCKET: socket, PATH: env.PATH ?? "/usr/bin:/bin" };
    const args = sender === "systemd-notify" ? lines : ["-c", PY_SENDER, lines.join("\n")];
    return new Promise((resolve) => {
      execFile(bin ?? "", args, { env: childEnv, timeout: opts.helperTimeoutMs ?? 10_000 }, (err, _stdout, stderr) => {
        if (err) {
          failed++;
          // Logged on the first failure and then sparsely: a broken socket must not flood the journal every 15 s.
          if (failed === 1 || failed % 100 === 0)
            log?.warn("systemd notification failed", {
              sender,
              lines,
              failed,
              error: String(stderr || err.message).trim(),
            });
        } else sent++;
        resolve();
      });
    });
  }

  async function drain(): Promise<void> {
    for (let next = queue.shift(); next; next = queue.shift()) await runHelper(next);
    running = null;
  }

  function send(lines: string[]): void {
    if (!sender) return;
    const first = lines[0] ?? "";
    if (first === "WATCHDOG=1" && queue.some((q) => q[0] === "WATCHDOG=1")) return;
    if (first.startsWith("STATUS=")) {
      const i = queue.findIndex((q) => q[0]?.startsWith("STATUS="));
      if (i >= 0) {
        queue[i] = lines;
        return;
      }
    }
    if (queue.length >= MAX_QUEUE) {
      dropped++;
      return;
    }
    queue.push(lines);
    running ??= drain();
  }

  return {
    ready: () => send(["READY=1"]),
    watchdog: () => send(["WATCHDOG=1"]),
    stopping: () => send(["STOPPING=1"]),
    status: (text: string) => send([`STATUS=${oneLine(text)}`]),
    watchdogIntervalMs,
    enabled: sender !== null,
    sender,
    flush: () => running ?? Promise.resolve(),
    stats: () => ({ sent, failed, dropped }),
  };
}

/**
 * Pings the watchdog every watchdogIntervalMs while isHealthy() says so. A wedged event loop
 * stops the pings by itself; isHealthy lets the app also withhold them (e.g. a stuck main loop)
 * so systemd restarts it. Returns a stop function; the timer never keeps the process alive.
 */
export function startWatchdog(notifier: SdNotifier, isHealthy: () => boolean = () => true): () => void {
  if (notifier.watchdogIntervalMs === null) return () => {};
  const timer = setInterval(() => {
    let healthy = false;
    try {
      healthy = isHealthy();
    } catch {
      healthy = false;
    }
    if (healthy) notifier.watchdog();
  }, notifier.watchdogIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
