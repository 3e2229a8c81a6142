// Entry point: `npm start [-- --config FILE]` (run from the bundle dist/rpi-tb-gateway.mjs that
// scripts/build-server.mjs makes; `npm run dev` runs this file through tsx). With no config file it runs the demo: simulated
// hardware and, unless TB_HOST is set, the embedded ThingsBoard emulator.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfigFile, validateConfig, applyEnv } from "./config/load.ts";
import { demoConfigFor } from "./demo.ts";
import { Controller } from "./controller.ts";
import { embeddedThingsBoard } from "./embeddedThingsBoard.ts";
import { createLogger, LEVELS, type Logger, type LogLevel } from "./util/logger.ts";
import { appPath } from "./util/appRoot.ts";
import { unitIdentity } from "./util/identity.ts";
import { createSdNotifier, startWatchdog } from "./util/sdNotify.ts";
import { EXIT_CONFIG, explainStartupFailure } from "./startupFailure.ts";

const USAGE = `Usage: npm start -- [--config FILE]
  --config FILE   YAML configuration (see config.example.yaml). Without it: the demo.
Environment overrides: TB_HOST TB_PORT TB_ACCESS_TOKEN HARDWARE HTTP_PORT DATA_DIR DASHBOARD_PASSWORD LOG_LEVEL`;

/** Exit code that asks systemd (Restart=on-failure) to start us again. */
const EXIT_RESTART = 75;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } },
      strict: true,
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.values.help) {
    console.log(USAGE);
    return;
  }
  const envLevel = process.env.LOG_LEVEL;
  const log = createLogger((LEVELS as readonly string[]).includes(envLevel ?? "") ? (envLevel as LogLevel) : "info");

  const file = args.values.config;
  const demo = !file;
  const embedded = demo && !process.env.TB_HOST;
  // The emulator is not part of this file's bundle (the Pi's): the demo's entry point provides it.
  const startThingsBoard = embedded ? embeddedThingsBoard() : null;
  if (embedded && !startThingsBoard) {
    console.error(
      "No config file, and this build has no embedded ThingsBoard (it is the appliance's own bundle): run it with --config FILE, set TB_HOST to run the demo against a ThingsBoard, or run the demo with npm start.",
    );
    process.exit(EXIT_CONFIG);
  }
  let result;
  if (file) result = loadConfigFile(file, process.env);
  else {
    const raw = demoConfigFor(process.env) as Record<string, unknown>;
    const envErrors = applyEnv(raw, process.env);
    result = envErrors.length ? { ok: false as const, errors: envErrors } : validateConfig(raw);
  }
  if (!result.ok) {
    if (result.unreadable) console.error(result.errors.join("\n"));
    else
      console.error(
        `Refusing to start because the configuration${file ? ` in ${file}` : ""} is not valid:\n${result.errors.map((e) => `  - ${e}`).join("\n")}`,
      );
    process.exit(EXIT_CONFIG);
  }
  const config = result.config;
  log.root.level = config.log.level;
  for (const s of [
    config.thingsboard.accessToken,
    config.thingsboard.password,
    config.dashboard.password,
    config.dashboard.viewerPassword,
    config.thingsboard.provision?.secret,
  ])
    log.root.addSecret(s);

  const id = unitIdentity();
  const unit = config.unit.name ?? id.unit;
  const version = (JSON.parse(readFileSync(appPath("package.json"), "utf8")) as { version: string }).version;
  let restarting = false;
  let controller: Controller;
  try {
    controller = new Controller({
      config,
      log,
      demo: embedded,
      ...(startThingsBoard ? { embeddedThingsBoard: startThingsBoard } : {}),
      unit,
      version,
      emulatorPorts: { mqtt: 1883, http: 9090 },
      restart: () => {
        restarting = true;
        process.kill(process.pid, "SIGTERM");
      },
    });
  } catch (err) {
    // hardware: auto off a Pi (HardwareUnavailableError): say what is missing, no stack trace.
    startupFailed(log, err);
  }

  const notifier = createSdNotifier();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    notifier.stopping();
    log.info(`${signal}: shutting down`);
    const force = setTimeout(() => {
      log.error("shutdown took longer than 20 s; exiting");
      process.exit(1);
    }, 20_000);
    force.unref();
    await controller.stop();
    process.exit(restarting ? EXIT_RESTART : 0);
  };
  // A shutdown that itself fails must still end the process (systemd restarts it).
  const shutdownOn = (signal: string) => () => {
    shutdown(signal).catch((err: unknown) => {
      log.error(`shutdown failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    });
  };
  process.on("SIGTERM", shutdownOn("SIGTERM"));
  process.on("SIGINT", shutdownOn("SIGINT"));
  process.on("unhandledRejection", (reason) =>
    log.error(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`),
  );
  process.on("uncaughtException", (err) => {
    log.error(`uncaught exception: ${err.stack ?? err.message}; stopping so systemd can restart cleanly`);
    restarting = true;
    shutdownOn("uncaughtException")();
  });

  try {
    await controller.start();
  } catch (err) {
    await controller.stop().catch(() => {});
    startupFailed(log, err);
  }
  notifier.ready();
  startWatchdog(notifier, () => !stopping);

  const url = `http://localhost:${controller.httpPort}`;
  const lines = [
    `rpi-tb-gateway ${version} running as unit "${unit}" on ${controller.hardware.kind === "sim" ? "simulated hardware" : "Raspberry Pi hardware"}`,
    `Dashboard: ${url}`,
  ];
  const code = controller.dashboardSetupCode;
  // Next to the URL, not inside a log line: the first thing a new user needs (issue 13).
  if (code) lines.push(...setupCodeBanner(code));
  const emu = controller.emulator;
  if (emu) {
    const gpio = controller.runtime.list().find((d) => d.info.kind === "gpio");
    lines.push(
      `Embedded ThingsBoard emulator: MQTT 127.0.0.1:${emu.mqttPort}, REST http://127.0.0.1:${emu.httpPort} (tenant@thingsboard.org / tenant)`,
    );
    if (gpio)
      lines.push(
        `Try: npm run rpc -- --url http://127.0.0.1:${emu.httpPort} "${gpio.info.name}" toggle_gpio '{"pin":17}'`,
      );
  } else if (demo)
    lines.push(`Demo devices against ThingsBoard at ${config.thingsboard.host}:${config.thingsboard.port}`);
  for (const l of lines) console.log(l);
}

/** One or two sentences and an exit code; the stack only for whoever asked for debug (issue 13). */
function startupFailed(log: Logger, err: unknown): never {
  const why = explainStartupFailure(err);
  console.error(why.message);
  if (log.enabled("debug")) console.error(why.debugDetail);
  else if (why.message.startsWith("Start-up failed")) console.error("(LOG_LEVEL=debug shows where it failed.)");
  process.exit(why.exitCode);
}

function setupCodeBanner(code: string): string[] {
  const text = [
    `Dashboard setup code: ${code}`,
    "No dashboard password is set yet: open the dashboard, enter this code",
    "and choose a password. (Forgot it later? npm run reset-password)",
  ];
  const width = Math.max(...text.map((t) => t.length));
  const rule = `+${"-".repeat(width + 2)}+`;
  return [rule, ...text.map((t) => `| ${t.padEnd(width)} |`), rule];
}

main().catch((err: unknown) => {
  console.error(`rpi-tb-gateway: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
