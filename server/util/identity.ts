// Who this unit is. Every ThingsBoard device name carries the unit identity ("{unit} bme280"),
// so a fleet of Pis flashed from one SD-card image must not all call themselves the same thing.
// The Pi's SoC serial number is burnt into OTP at the factory and survives re-flashing, so it is
// the best source; the hostname (which image bakers often leave at "raspberrypi") is the fallback.
import { readFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";

export interface UnitIdentity {
  /** Identity used in device names: "rpi-" + last 8 hex digits of the serial, else the sanitised hostname. */
  unit: string;
  /** Full SoC serial (lower-case hex), null when none could be read (not a Pi, container, ...). */
  serial: string | null;
  hostname: string;
  /** e.g. "Raspberry Pi 4 Model B Rev 1.5", null when the device tree has no model. */
  model: string | null;
}

export interface IdentityOptions {
  /** Root of the proc file system; tests point this at a fake tree. */
  procRoot?: string;
  /** Overrides os.hostname(). */
  hostname?: string;
}

const UNIT_MAX = 64; // matches config unit.name: /^[A-Za-z0-9_.-]{1,64}$/
const FALLBACK_UNIT = "rpi-tb-gateway";

function readText(path: string): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return null;
  }
}

/** Device-tree strings are NUL-terminated (Devicetree Specification 2.2.4, "string" property values). */
function dtString(raw: string | null): string | null {
  if (raw === null) return null;
  const s = raw.split("\0")[0]?.trim() ?? "";
  return s.length > 0 ? s : null;
}

/** Normalises a serial; all-zero serials (seen on emulators and some boards) identify nothing. */
export function normaliseSerial(raw: string | null): string | null {
  if (raw === null) return null;
  const s = raw.trim().toLowerCase();
  if (!/^[0-9a-f]{4,32}$/.test(s) || /^0+$/.test(s)) return null;
  return s;
}

/** Serial from the `Serial\t\t: 10000000abcdef12` line the Pi kernel adds to /proc/cpuinfo. */
export function serialFromCpuinfo(cpuinfo: string): string | null {
  for (const line of cpuinfo.split("\n")) {
    const m = /^Serial\s*:\s*([0-9A-Fa-f]+)\s*$/.exec(line);
    if (m?.[1]) return normaliseSerial(m[1]);
  }
  return null;
}

/** Keeps [A-Za-z0-9_.-], turns anything else into "-", and bounds the length. */
export function sanitiseUnitName(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, UNIT_MAX);
  return s.length > 0 ? s : FALLBACK_UNIT;
}

/** Reads the identity once at start-up (synchronous, never throws). */
export function unitIdentity(opts: IdentityOptions = {}): UnitIdentity {
  const procRoot = opts.procRoot ?? "/proc";
  const host = opts.hostname ?? safeHostname();
  // /proc/device-tree is a symlink to /sys/firmware/devicetree/base on every Pi kernel.
  const serial =
    normaliseSerial(dtString(readText(join(procRoot, "device-tree", "serial-number")))) ??
    serialFromCpuinfo(readText(join(procRoot, "cpuinfo")) ?? "");
  const model = dtString(readText(join(procRoot, "device-tree", "model")));
  const unit = serial ? `rpi-${serial.slice(-8)}` : sanitiseUnitName(host);
  return { unit, serial, hostname: host, model };
}

function safeHostname(): string {
  try {
    return osHostname();
  } catch {
    return "";
  }
}
