// Entry point: `npm start [-- --config FILE]` (run from the bundle dist/rpi-tb-gateway.mjs that
// scripts/build-server.mjs makes; `npm run dev` runs this file through tsx). With no config file it runs the demo: simulated
// hardware and, unless TB_HOST is set, the embedded ThingsBoard emulator.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfigFile, validateConfig, applyEnv } from "./config/load.ts";
import { demoConfigFor } from "./demo.ts";
import { Controller } from "./controller.ts";
import { HardwareUnavailableError } from "./hardware.ts";
import { createLogger, LEVELS, type LogLevel } from "./util/logger.ts";
import { appPath } from "./util/appRoot.ts";
import { unitIdentity } from "./util/identity.ts";
import { createSdNotifier, startWatchdog } from "./util/sdNotify.ts";

const USAGE = `Usage: npm start -- [--config FILE]
  --config FILE   YAML configuration (see config.example.yaml). Without it: the demo.
Environment overrides: TB_HOST TB_PORT TB_ACCESS_TOKEN HARDWARE HTTP_PORT DATA_DIR DASHBOARD_PASSWORD LOG_LEVEL`;

/** Exit code that asks systemd (Restart=on-failure) to start us again. */
const EXIT_RESTART = 75;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } }, strict: true });
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
  let result;
  if (file) result = loadConfigFile(file, process.env);
  else {
    const raw = demoConfigFor(process.env) as Record<string, unknown>;
    const envErrors = applyEnv(raw, process.env);
    result = envErrors.length ? { ok: false as const, errors: envErrors } : validateConfig(raw);
  }
  if (!result.ok) {
    console.error(`Refusing to start because the configuration${file ? ` in ${file}` : ""} is not valid:\n${result.errors.map((e) => `  - ${e}`).join("\n")}`);
    process.exit(2);
  }
  const config = result.config;
  log.root.level = config.log.level;
  for (const s of [config.thingsboard.accessToken, config.thingsboard.password, config.dashboard.password, config.dashboard.viewerPassword, config.thingsboard.provision?.secret]) log.root.addSecret(s);

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
    console.error(`Refusing to start: ${err instanceof HardwareUnavailableError ? err.message : ((err as Error).stack ?? String(err))}`);
    process.exit(2);
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
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("unhandledRejection", (reason) => log.error(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}`));
  process.on("uncaughtException", (err) => {
    log.error(`uncaught exception: ${err.stack ?? err.message}; stopping so systemd can restart cleanly`);
    restarting = true;
    void shutdown("uncaughtException");
  });

  try {
    await controller.start();
  } catch (err) {
    log.error(`start-up failed: ${(err as Error).stack ?? String(err)}`);
    await controller.stop().catch(() => {});
    process.exit(1);
  }
  notifier.ready();
  startWatchdog(notifier, () => !stopping);

  const url = `http://localhost:${controller.httpPort}`;
  const lines = [`rpi-tb-gateway ${version} running as unit "${unit}" on ${controller.hardware.kind === "sim" ? "simulated hardware" : "Raspberry Pi hardware"}`, `Dashboard: ${url}`];
  const emu = controller.emulator;
  if (emu) {
    const gpio = controller.runtime.list().find((d) => d.info.kind === "gpio");
    lines.push(`Embedded ThingsBoard emulator: MQTT 127.0.0.1:${emu.mqttPort}, REST http://127.0.0.1:${emu.httpPort} (tenant@thingsboard.org / tenant)`);
    if (gpio) lines.push(`Try: npm run rpc -- --url http://127.0.0.1:${emu.httpPort} "${gpio.info.name}" toggle_gpio '{"pin":17}'`);
  } else if (demo) lines.push(`Demo devices against ThingsBoard at ${config.thingsboard.host}:${config.thingsboard.port}`);
  for (const l of lines) console.log(l);
}

void main();
