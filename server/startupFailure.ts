// What a failed start-up tells the user (issue 13): one or two sentences that name the cause and
// the setting that fixes it, and an exit code; the stack trace only at LOG_LEVEL=debug. Parts that
// know the fix throw a StartupError with the finished sentence; errors from drivers and the OS
// that reach main.ts are turned into sentences here. Errors are told apart by name, so that this
// file (imported by the dashboard server) pulls in neither the drivers nor hardware.ts.

/** Exit codes of main.ts: a configuration the user must fix, or an environment that refused a start-up step. */
export const EXIT_CONFIG = 2;
export const EXIT_STARTUP = 1;

export class StartupError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_STARTUP, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartupError";
    this.exitCode = exitCode;
  }
}

/** The dashboard's listen() failed: which setting moves it. */
export function dashboardListenError(err: NodeJS.ErrnoException, host: string, port: number): StartupError {
  const where = `${host}:${port}`;
  switch (err.code ?? "") {
    case "EADDRINUSE":
      return new StartupError(
        `The dashboard cannot listen on port ${port} (${where}): another program is already using it. Choose a free port with HTTP_PORT (e.g. HTTP_PORT=${port === 8080 ? 8081 : 8080}) or http.port in the config file.`,
        EXIT_STARTUP,
        { cause: err },
      );
    case "EACCES":
      return new StartupError(
        `The dashboard may not listen on port ${port} (${where}): ports below 1024 need root. Choose a port from 1024 up with HTTP_PORT or http.port in the config file.`,
        EXIT_STARTUP,
        { cause: err },
      );
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new StartupError(
        `The dashboard cannot listen on ${where}: ${host} is not an address of this machine. Set http.host to 0.0.0.0 (all interfaces), 127.0.0.1 or one of this machine's addresses.`,
        EXIT_STARTUP,
        { cause: err },
      );
    default:
      return new StartupError(`The dashboard cannot listen on ${where}: ${err.message}.`, EXIT_STARTUP, { cause: err });
  }
}

/** The sentence for a start-up failure and the exit code; debugDetail is the stack for LOG_LEVEL=debug. */
export function explainStartupFailure(err: unknown): { message: string; exitCode: number; debugDetail: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  const debugDetail = e.stack ?? e.message;
  if (e instanceof StartupError) return { message: e.message, exitCode: e.exitCode, debugDetail };
  if (e.name === "HardwareUnavailableError")
    return { message: `Refusing to start: ${e.message}`, exitCode: EXIT_CONFIG, debugDetail };
  if (e.name === "GpioChipNotFoundError") {
    return {
      message: `HARDWARE=pi (or hardware: pi in the config) asks for the Raspberry Pi's GPIO, but this machine has none: ${e.message}. On a computer that is not a Pi, use HARDWARE=sim (simulated hardware).`,
      exitCode: EXIT_CONFIG,
      debugDetail,
    };
  }
  const errno = e as NodeJS.ErrnoException;
  if ((errno.code === "EACCES" || errno.code === "EPERM" || errno.code === "EROFS") && errno.path) {
    return {
      message: `Cannot write ${errno.path} (${errno.code}): the data directory must be writable by this user. Set DATA_DIR or dataDir in the config file to a directory it can write.`,
      exitCode: EXIT_STARTUP,
      debugDetail,
    };
  }
  return { message: `Start-up failed: ${e.message}`, exitCode: EXIT_STARTUP, debugDetail };
}
