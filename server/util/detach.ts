// Fire-and-forget with a guaranteed catch. The linter (no-floating-promises with ignoreVoid off,
// no-void in expressions) refuses a bare `void promise`, because an async function without its
// own try/catch then rejects into an unhandledRejection, which kills the process on Node >= 15.

/** The one method detach needs, so drivers-free code and tests can pass any logger. */
export interface ErrorLog {
  error(msg: string, data?: Record<string, unknown>): void;
}

/** Run `work` in the background; a rejection is logged as "<what> failed: <reason>" instead of escaping. */
export function detach(what: string, work: Promise<unknown>, log: ErrorLog): void {
  work.catch((err: unknown) => log.error(`${what} failed: ${err instanceof Error ? err.message : String(err)}`));
}
