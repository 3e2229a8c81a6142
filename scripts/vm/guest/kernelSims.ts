// The kernel's stand-ins for the Pi's interfaces, set up as root before the appliance starts:
// gpio-sim (a 58-line bank labelled like a Pi 4's pin controller, configured through configfs)
// and i2c-stub (chips answering SMBus transfers from a register image), plus the gpio trace
// events that record every level the kernel drives onto a line.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sh } from "./harness.ts";

const CONFIGFS = "/sys/kernel/config";
const TRACEFS = "/sys/kernel/tracing";

export interface SimGpio {
  /** sysfs number of line 0 (the kernel chose it; a Pi 4 on 6.6+ shows 512). */
  base: number;
  label: string;
  /** /sys/devices/platform/gpio-sim.N/gpiochipM: holds sim_gpioK/{value,pull}. */
  simDir: string;
}

async function ensureMounted(dir: string, type: string): Promise<void> {
  const mounts = readFileSync("/proc/mounts", "utf8");
  if (!mounts.split("\n").some((l) => l.split(" ")[1] === dir)) await sh("mount", ["-t", type, "none", dir]);
}

/** Creates a live gpio-sim bank labelled `label` with `lines` lines (Documentation/admin-guide/gpio/gpio-sim.rst). */
export async function createGpioSim(label: string, lines: number): Promise<SimGpio> {
  await ensureMounted(CONFIGFS, "configfs");
  const dev = join(CONFIGFS, "gpio-sim", "virtual-pi");
  mkdirSync(join(dev, "gpio-bank0"), { recursive: true });
  writeFileSync(join(dev, "gpio-bank0", "num_lines"), String(lines));
  writeFileSync(join(dev, "gpio-bank0", "label"), label);
  writeFileSync(join(dev, "live"), "1");
  const devName = readFileSync(join(dev, "dev_name"), "utf8").trim();
  const chipName = readFileSync(join(dev, "gpio-bank0", "chip_name"), "utf8").trim();
  const chip = readdirSync("/sys/class/gpio").find(
    (n) => /^gpiochip\d+$/.test(n) && readFileSync(`/sys/class/gpio/${n}/label`, "utf8").trim() === label,
  );
  if (!chip) throw new Error(`gpio-sim bank "${label}" is live but has no /sys/class/gpio/gpiochip* entry`);
  return {
    base: Number(readFileSync(`/sys/class/gpio/${chip}/base`, "utf8").trim()),
    label,
    simDir: `/sys/devices/platform/${devName}/${chipName}`,
  };
}

/** The level on the simulated side of a line: what an output drives, or an input's pull. */
export function simValue(sim: SimGpio, line: number): number {
  return Number(readFileSync(join(sim.simDir, `sim_gpio${line}`, "value"), "utf8").trim());
}

/** Pulls an input line up or down, as a switch on the header would: the kernel sees an edge. */
export function setPull(sim: SimGpio, line: number, pull: "pull-up" | "pull-down"): void {
  writeFileSync(join(sim.simDir, `sim_gpio${line}`, "pull"), pull);
}

/** Loads i2c-stub with chips at `addresses`; returns the bus number of its /dev/i2c-N. */
export async function loadI2cStub(addresses: number[]): Promise<number> {
  await sh("modprobe", ["i2c-stub", `chip_addr=${addresses.map((a) => `0x${a.toString(16)}`).join(",")}`]);
  // Adapters are i2c-N on the i2c bus (the /sys/class/i2c-adapter links went with I2C_COMPAT).
  const adapters = readdirSync("/sys/bus/i2c/devices").filter((a) => /^i2c-\d+$/.test(a));
  const stub = adapters.find(
    (a) => readFileSync(`/sys/bus/i2c/devices/${a}/name`, "utf8").trim() === "SMBus stub driver",
  );
  if (!stub) throw new Error(`i2c-stub loaded but no adapter named "SMBus stub driver" among ${adapters.join(", ")}`);
  const bus = Number(stub.replace("i2c-", ""));
  if (!existsSync(`/dev/i2c-${bus}`)) throw new Error(`/dev/i2c-${bus} missing (i2c-dev)`);
  return bus;
}

/**
 * Writes a register image with i2cset: `b` byte by byte (byte data writes set a register's low
 * byte), or `w` a 16-bit SMBus word per register (i2c-stub keeps one word per register).
 */
export async function writeI2cImage(
  bus: number,
  address: number,
  image: Map<number, number>,
  mode: "b" | "w" = "b",
): Promise<void> {
  for (const [reg, value] of image)
    await sh("i2cset", [
      "-y",
      String(bus),
      `0x${address.toString(16)}`,
      `0x${reg.toString(16)}`,
      `0x${value.toString(16)}`,
      mode,
    ]);
}

export async function readI2cByte(bus: number, address: number, reg: number): Promise<number> {
  const { out } = await sh("i2cget", ["-y", String(bus), `0x${address.toString(16)}`, `0x${reg.toString(16)}`, "b"]);
  return Number(out.trim());
}

/** One SMBus read word, as the SMBus delivers it (LSB first: no swap). */
export async function readI2cWord(bus: number, address: number, reg: number): Promise<number> {
  const { out } = await sh("i2cget", ["-y", String(bus), `0x${address.toString(16)}`, `0x${reg.toString(16)}`, "w"]);
  return Number(out.trim());
}

/** Turns on the gpio:gpio_value trace event (every level gpiolib sets or reads, per line). */
export async function startGpioTrace(): Promise<void> {
  await ensureMounted(TRACEFS, "tracefs");
  writeFileSync(join(TRACEFS, "buffer_size_kb"), "1024");
  writeFileSync(join(TRACEFS, "events/gpio/gpio_value/enable"), "1");
  clearGpioTrace();
}

export function clearGpioTrace(): void {
  writeFileSync(join(TRACEFS, "trace"), "");
}

/** The levels the kernel set on global GPIO number `gpio`, oldest first ("gpio_value: 529 set 1"). */
export function tracedSets(gpio: number): number[] {
  const text = readFileSync(join(TRACEFS, "trace"), "utf8");
  const re = new RegExp(`gpio_value: ${gpio} set (\\d)`, "g");
  return [...text.matchAll(re)].map((m) => Number(m[1]));
}

/** Reads of line `gpio` recorded by the trace (the value file read after an edge). */
export function tracedGets(gpio: number): number[] {
  const text = readFileSync(join(TRACEFS, "trace"), "utf8");
  const re = new RegExp(`gpio_value: ${gpio} get (\\d)`, "g");
  return [...text.matchAll(re)].map((m) => Number(m[1]));
}
