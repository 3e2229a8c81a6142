// What the emulator logs through. It imports nothing from server/ (docs/architecture.md): the
// appliance passes its own logger in (it fits this shape); the CLI uses the console one below.

export type EmulatorLogMessage = string | (() => string);

export interface EmulatorLog {
  debug(msg: EmulatorLogMessage, data?: Record<string, unknown>): void;
  info(msg: EmulatorLogMessage, data?: Record<string, unknown>): void;
  warn(msg: EmulatorLogMessage, data?: Record<string, unknown>): void;
  error(msg: EmulatorLogMessage, data?: Record<string, unknown>): void;
  child(name: string): EmulatorLog;
}

const RANK = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof RANK;

export function silentEmulatorLog(): EmulatorLog {
  const nothing = (): void => {};
  const log: EmulatorLog = { debug: nothing, info: nothing, warn: nothing, error: nothing, child: () => log };
  return log;
}

/** One line per record on stderr, from `level` up (the CLI's). */
export function consoleEmulatorLog(level: Level, ns = "emulator"): EmulatorLog {
  const at = (l: Level) => (msg: EmulatorLogMessage, data?: Record<string, unknown>) => {
    if (RANK[l] < RANK[level]) return;
    const text = typeof msg === "function" ? msg() : msg;
    process.stderr.write(
      `${new Date().toISOString()} ${l.toUpperCase()} ${ns} ${text}${data ? ` ${JSON.stringify(data)}` : ""}\n`,
    );
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (name) => consoleEmulatorLog(level, `${ns}:${name}`),
  };
}
