// The appliance as installed inside the VM: its config, the install/uninstall scripts run the
// way a user runs them, and the systemd facts the checks read.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { ADS1115_ADDRESS, ADS1115_OPTIONS } from "./ads1115Image.ts";
import { sh, unitProps, waitUntil } from "./harness.ts";

export const UNIT = "rpi-tb-gateway.service";
export const APP_DIR = "/opt/rpi-tb-gateway";
export const CONF = "/etc/rpi-tb-gateway/config.yaml";
export const DATA_DIR = "/var/lib/rpi-tb-gateway";
export const SERVICE_USER = "rpi-tb-gateway";
export const GATEWAY = { name: "virtual-pi-gateway", accessToken: "vm-gateway-token" };
export const MQTT_PORT = 18830;

export const RELAY1 = 17; // active high, safe 0
export const RELAY2 = 27; // active low, safe 0 (line high when off)
export const DOOR = 22; // input, both edges
export const DEBOUNCE_MS = 300;

/** The config a user would write for this "Pi 4": hardware pi, the gpio-sim header, the stub bus. */
export function configYaml(i2cBus: number): string {
  const ads = ADS1115_OPTIONS;
  return `# Written by the VM test (scripts/vm/guest): a Pi 4 header on gpio-sim, a BME280 and an ADS1115 on i2c-stub.
version: 1
unit: { name: vpi }
hardware: pi
thingsboard:
  host: 127.0.0.1
  port: ${MQTT_PORT}
  accessToken: ${GATEWAY.accessToken}
  flushIntervalMs: 100
http: { port: 8080, host: 127.0.0.1 }
dataDir: ${DATA_DIR}
log: { level: info }
outbox: { diskFlushMs: 200 }
devices:
  - id: relays
    kind: gpio
    name: "{unit} Relays"
    outputs:
      - { pin: ${RELAY1}, label: relay1, safeState: 0 }
      - { pin: ${RELAY2}, label: relay2, safeState: 0, activeLow: true }
    inputs:
      - { pin: ${DOOR}, label: door, edge: both, debounceMs: ${DEBOUNCE_MS} }
  - id: climate
    kind: sensor
    chip: bme280
    name: "{unit} Climate"
    bus: ${i2cBus}
    address: 0x76
    intervalSec: 2
    report: { strategy: every }
  - id: analog
    kind: sensor
    chip: ads1115
    name: "{unit} Analog"
    bus: ${i2cBus}
    address: 0x${ADS1115_ADDRESS.toString(16)}
    intervalSec: 2
    options: { gain: ${ads.gain}, channels: [${ads.channels.join(", ")}] }
    report: { strategy: every }
`;
}

export const RELAYS_DEVICE = "vpi Relays";
export const CLIMATE_DEVICE = "vpi Climate";
export const ANALOG_DEVICE = "vpi Analog";

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * The installer copies node_modules from the running release when package-lock.json and the Node
 * ABI are unchanged (scripts/lib/install-app.sh, install_app: deps=keep). The VM has no npm
 * registry, and compiling the native modules under emulation would take most of an hour, so the
 * host prepares production node_modules for the same lockfile and ABI and this places them as
 * the release a previous install would have left (releases/<id> with its .install-state, and
 * `current` pointing at it). Everything else the installer does runs for real.
 */
export async function seedDependencies(seedDir: string, sourceDir: string): Promise<string> {
  const lock = createHash("sha256")
    .update(readFileSync(`${sourceDir}/package-lock.json`))
    .digest("hex");
  const { out: abi } = await sh("node", ["-p", 'process.versions.modules + "-" + process.arch']);
  const release = `${APP_DIR}/releases/vm-seed`;
  mkdirSync(release, { recursive: true });
  cpSync(`${seedDir}/node_modules`, `${release}/node_modules`, { recursive: true, verbatimSymlinks: true });
  writeFileSync(`${release}/.install-state`, `lock=${lock}\nabi=${abi.trim()}\n`);
  symlinkSync("releases/vm-seed", `${APP_DIR}/current`);
  return `node_modules for lock ${lock.slice(0, 12)}, ABI ${abi.trim()}`;
}

export async function install(
  sourceDir: string,
  opts: { allowFail?: boolean } = {},
): Promise<{ code: number; out: string }> {
  // --skip-apt: the VM has no Debian mirror; the build tools are not needed (no native compile).
  return sh("bash", [`${sourceDir}/scripts/install.sh`, "--skip-apt", "--source", sourceDir], {
    allowFail: opts.allowFail,
    timeoutMs: 900_000,
  });
}

export async function mainPid(): Promise<number> {
  return Number((await unitProps(UNIT, ["MainPID"])).MainPID ?? 0);
}

/** Waits for the unit to be active with a main PID other than `not`; returns the new PID. */
export async function waitActive(timeoutMs: number, not = 0): Promise<number> {
  return waitUntil(
    `${UNIT} active with a new main PID`,
    timeoutMs,
    async () => {
      const p = await unitProps(UNIT, ["ActiveState", "SubState", "MainPID"]);
      const pid = Number(p.MainPID ?? 0);
      return p.ActiveState === "active" && p.SubState === "running" && pid !== 0 && pid !== not ? pid : undefined;
    },
    500,
  );
}

export async function journalSince(cursorTime: string): Promise<string> {
  return (await sh("journalctl", ["-u", UNIT, "--since", cursorTime, "--no-pager", "-o", "cat"], { allowFail: true }))
    .out;
}

export async function nowForJournal(): Promise<string> {
  return (await sh("date", ["+%Y-%m-%d %H:%M:%S"])).out.trim();
}

export function installedVersion(): string {
  const pkg = JSON.parse(readFileSync(`${APP_DIR}/current/package.json`, "utf8")) as { version?: string };
  return pkg.version ?? "(none)";
}

/** A copy of the source with another package.json version (an "upgrade" to install). */
export function copyWithVersion(from: string, to: string, version: string): void {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  const path = `${to}/package.json`;
  const pkg = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  pkg.version = version;
  writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`);
}

/**
 * The one change to the shipped unit, made the way the unit tells users to (a drop-in): qemu
 * emulates the CPU here (no usable KVM), and node takes about a minute to load the bundle and
 * its native modules where a Pi 4 takes a second or two, so the unit's 60 s start limit would
 * fail the start. WatchdogSec, Restart, RestartSec and the hardening stay as shipped.
 */
export function emulationDropIn(): void {
  mkdirSync(`/etc/systemd/system/${UNIT}.d`, { recursive: true });
  writeFileSync(
    `/etc/systemd/system/${UNIT}.d/virtual-pi.conf`,
    "[Service]\n# Emulated CPU: start-up takes about a minute (scripts/vm/guest/appliance.ts)\nTimeoutStartSec=15min\n",
  );
}

export function exists(path: string): boolean {
  return existsSync(path);
}
