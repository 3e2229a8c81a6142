// One structured logger: JSON lines on stdout (journald keeps them), hierarchical namespaces
// with their own levels, lazy messages for hot paths, secrets masked before anything is written,
// and in-process sinks (dashboard event log, remote logs to ThingsBoard) that receive every record.

export const LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LEVELS)[number];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  ts: number;
  level: LogLevel;
  ns: string;
  msg: string;
  data?: Record<string, unknown>;
}

export type LogSink = (rec: LogRecord) => void;
type Msg = string | (() => string);

const SECRET_KEYS =
  /pass(word)?|secret|token|accessToken|credentials?Value|provisionDeviceSecret|cookie|authorization/i;

export function maskSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.test(k) && v !== undefined && v !== null && v !== "" ? "***" : maskSecrets(v, depth + 1);
  }
  return out;
}

export class LogRoot {
  level: LogLevel;
  nsLevels = new Map<string, LogLevel>();
  /** In-process sinks, each with the lowest level it wants. */
  sinks = new Map<LogSink, LogLevel>();
  /** Literal secret values (tokens, passwords) that must never appear in any message. */
  secrets = new Set<string>();
  write: (line: string) => void;
  /** Human-readable lines on a terminal; JSON lines otherwise (journald, files, pipes). */
  pretty: boolean;

  constructor(level: LogLevel = "info", write?: (line: string) => void) {
    this.level = level;
    this.write = write ?? ((line) => process.stdout.write(line + "\n"));
    this.pretty = !write && process.stdout.isTTY === true;
  }

  levelFor(ns: string): LogLevel {
    let n = ns;
    for (;;) {
      const l = this.nsLevels.get(n);
      if (l) return l;
      const i = n.lastIndexOf(":");
      if (i < 0) return this.level;
      n = n.slice(0, i);
    }
  }

  addSecret(s: string | undefined): void {
    if (s && s.length >= 4) this.secrets.add(s);
  }

  scrub(text: string): string {
    let t = text;
    for (const s of this.secrets) if (t.includes(s)) t = t.split(s).join("***");
    return t;
  }
}

export class Logger {
  readonly ns: string;
  readonly root: LogRoot;

  constructor(root: LogRoot, ns = "gw") {
    this.root = root;
    this.ns = ns;
  }

  child(sub: string): Logger {
    return new Logger(this.root, `${this.ns}:${sub}`);
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.root.levelFor(this.ns)];
  }

  debug(msg: Msg, data?: Record<string, unknown>): void {
    this.log("debug", msg, data);
  }
  info(msg: Msg, data?: Record<string, unknown>): void {
    this.log("info", msg, data);
  }
  warn(msg: Msg, data?: Record<string, unknown>): void {
    this.log("warn", msg, data);
  }
  error(msg: Msg, data?: Record<string, unknown>): void {
    this.log("error", msg, data);
  }

  log(level: LogLevel, msg: Msg, data?: Record<string, unknown>): void {
    const wanted = this.enabled(level);
    let sinkWants = false;
    for (const l of this.root.sinks.values()) if (RANK[level] >= RANK[l]) sinkWants = true;
    if (!wanted && !sinkWants) return;
    const text = this.root.scrub(typeof msg === "function" ? msg() : msg);
    const rec: LogRecord = { ts: Date.now(), level, ns: this.ns, msg: text };
    if (data) rec.data = maskSecrets(data) as Record<string, unknown>;
    if (wanted && this.root.pretty) {
      const extra = rec.data ? ` ${safeStringify(rec.data)}` : "";
      this.root.write(
        this.root.scrub(
          `${new Date(rec.ts).toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${rec.ns} ${text}${extra}`,
        ),
      );
    } else if (wanted) {
      let line: string;
      try {
        line = JSON.stringify({ time: new Date(rec.ts).toISOString(), level, ns: rec.ns, msg: text, ...rec.data });
      } catch {
        line = JSON.stringify({ time: new Date(rec.ts).toISOString(), level, ns: rec.ns, msg: text });
      }
      this.root.write(this.root.scrub(line));
    }
    if (!sinkWants) return;
    for (const [sink, l] of this.root.sinks) {
      if (RANK[level] < RANK[l]) continue;
      try {
        sink(rec);
      } catch {
        /* a sink must never break logging */
      }
    }
  }
}

export function createLogger(level: LogLevel = "info", write?: (line: string) => void): Logger {
  return new Logger(new LogRoot(level, write));
}

/** A logger that keeps nothing: for tests and benchmarks that do not look at logs. */
export function silentLogger(): Logger {
  return new Logger(new LogRoot("error", () => {}));
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return "[unserialisable]";
  }
}
