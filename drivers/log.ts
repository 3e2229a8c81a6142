// What a driver may say about itself. Drivers sit below the server and import nothing from it
// (docs/architecture.md): the server passes its own logger in, which fits this shape.

/** A message, or a function building it only when the level is enabled (for hot paths). */
export type DriverLogMessage = string | (() => string);

export interface DriverLog {
  debug(msg: DriverLogMessage, data?: Record<string, unknown>): void;
  info(msg: DriverLogMessage, data?: Record<string, unknown>): void;
  warn(msg: DriverLogMessage, data?: Record<string, unknown>): void;
  error(msg: DriverLogMessage, data?: Record<string, unknown>): void;
}

/** Says nothing: the default when no logger is passed (tests, tools). */
export function silentDriverLog(): DriverLog {
  const nothing = (): void => {};
  return { debug: nothing, info: nothing, warn: nothing, error: nothing };
}
