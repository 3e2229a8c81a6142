// Forgot the dashboard password (issue 13)? This removes the password the setup step stored in the
// data directory, so the next start prints a new one-time setup code and the dashboard asks for a
// new password, as on the first day. Whoever can run this can already read the data directory, the
// same trust as reading the setup code from the console. A password that comes from the config
// (dashboard.password / DASHBOARD_PASSWORD / dashboard.passwordHash) is not stored there: the
// script says where to change it instead.
//   npm run reset-password -- [--config FILE] [--data-dir DIR]
import { rmSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { applyEnv, loadConfigFile, validateConfig, type LoadResult } from "../server/config/load.ts";
import { demoConfigFor } from "../server/demo.ts";
import { AUTH_FILE } from "../server/http/auth/credentials.ts";

const USAGE = `Usage: npm run reset-password -- [--config FILE] [--data-dir DIR]

Removes the stored dashboard password. The next start prints a new one-time setup code,
and the dashboard asks for a new password with it.
  --config FILE    the config the gateway runs with (without it: the demo's settings)
  --data-dir DIR   the gateway's data directory (default: DATA_DIR, else dataDir of the config)
  -h, --help       print this help
On the Pi: cd /opt/rpi-tb-gateway && sudo DATA_DIR=/var/lib/rpi-tb-gateway npm run reset-password -- --config /etc/rpi-tb-gateway/config.yaml`;

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

let args;
try {
  args = parseArgs({
    options: { config: { type: "string" }, "data-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
} catch (err) {
  fail(`${(err as Error).message}\n\n${USAGE}`, 2);
}
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}

const file = args.values.config;
let loaded: LoadResult;
if (file) loaded = loadConfigFile(file, process.env);
else {
  const raw = demoConfigFor(process.env) as Record<string, unknown>;
  const envErrors = applyEnv(raw, process.env);
  loaded = envErrors.length ? { ok: false, errors: envErrors } : validateConfig(raw);
}
// The data directory given outright (--data-dir, DATA_DIR) is enough, even when the config is not valid for a start.
const explicitDir = args.values["data-dir"] ?? (process.env["DATA_DIR"] || undefined);
if (!loaded.ok && !explicitDir)
  fail(
    loaded.unreadable
      ? loaded.errors.join("\n")
      : `The configuration${file ? ` in ${file}` : ""} is not valid, so its data directory is unknown:\n${loaded.errors.map((e) => `  - ${e}`).join("\n")}\n(--data-dir DIR names it directly.)`,
    2,
  );
const dashboard: { password?: string | undefined; passwordHash?: string | undefined } = loaded.ok
  ? loaded.config.dashboard
  : {};
if (dashboard.password) {
  fail(
    `The dashboard password comes from ${process.env["DASHBOARD_PASSWORD"] ? "the DASHBOARD_PASSWORD variable" : `dashboard.password in ${file ?? "the config"}`}, not from the data directory: change it there and restart the gateway.`,
    1,
  );
}
if (dashboard.passwordHash) {
  fail(
    `The dashboard password comes from dashboard.passwordHash in ${file ?? "the config"}: put a new hash there (npm run -s hash-password) or delete that line to get a setup code at the next start, then restart the gateway.`,
    1,
  );
}

const dataDir = resolve(explicitDir ?? (loaded.ok ? loaded.config.dataDir : "."));
const stored = join(dataDir, AUTH_FILE);
if (!existsSync(stored)) {
  console.log(
    `No dashboard password is stored in ${dataDir}: nothing to reset. The gateway prints a one-time setup code when it starts; the dashboard asks for it.`,
  );
  if (!existsSync(dataDir))
    console.log(
      `(${dataDir} does not exist: is it the gateway's data directory? --data-dir DIR or DATA_DIR names it.)`,
    );
  process.exit(0);
}
try {
  rmSync(stored);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  fail(
    `Cannot remove ${stored}: ${code === "EACCES" || code === "EPERM" ? "permission denied; run it as the gateway's user or with sudo" : (err as Error).message}.`,
    1,
  );
}
console.log(`Removed the dashboard password stored in ${stored}.
Restart the gateway (on the Pi: sudo systemctl restart rpi-tb-gateway). It prints a new one-time
setup code (on the Pi: journalctl -u rpi-tb-gateway | grep "setup code"); open the dashboard,
enter the code and choose a new password.`);
