// Where BCM GPIO 0 lives in the kernel's sysfs numbering. Up to kernel 6.5 the Pi's pin controller
// registered at base 0, so sysfs number = BCM number. From 6.6 (Raspberry Pi OS Bookworm updates)
// gpiolib hands out dynamic bases from 512 up, so BCM 17 became 529 on a Pi 4 and 588 on a Pi 5
// (RP1 at base 571), and writing a plain BCM number to `export` fails with EINVAL
// (fivdi/onoff#199, #200; raspberrypi/linux#6084). The base depends on probe order, so it is read
// at start-up from gpiochip*/{label,base,ngpio}, never hard-coded (the approach of fivdi/onoff#204).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MAX_BCM_PIN, checkPin } from "./validate.ts";

/** Lines assumed for a configured base with no chip to read ngpio from: the header pins. */
const HEADER_LINES = MAX_BCM_PIN + 1;

export const DEFAULT_SYSFS_ROOT = "/sys/class/gpio";

/**
 * Labels of the chip that drives the 40-pin header, most specific first. On a Pi 5 the header is
 * on RP1 (pinctrl-rp1), while the SoC's own bcm2712 controllers also appear, so rp1 must win.
 */
export const BCM_CHIP_LABELS = ["pinctrl-rp1", "pinctrl-bcm2712", "pinctrl-bcm2711", "pinctrl-bcm2835"] as const;

export interface SysfsGpioChip {
  /** Directory name, e.g. gpiochip512. */
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

export interface BcmMapping {
  label: string;
  /** sysfs number of BCM 0. */
  base: number;
  ngpio: number;
  /** Read from sysfs, or taken from configuration. */
  source: "sysfs" | "configured";
}

/** No usable chip: carries what was found so the log and dashboard can show it. */
export class GpioChipNotFoundError extends Error {
  readonly chips: SysfsGpioChip[];
  constructor(message: string, chips: SysfsGpioChip[]) {
    super(message);
    this.name = "GpioChipNotFoundError";
    this.chips = chips;
  }
}

const DECIMAL = /^\d+$/;

async function readTrimmed(path: string): Promise<string> {
  return (await readFile(path, "utf8")).trim();
}

/**
 * Lists gpiochip* entries under root. Rejects if root cannot be read; an entry whose files are
 * missing or malformed is left out (a half-registered chip is not one we can use).
 */
export async function listSysfsChips(root: string = DEFAULT_SYSFS_ROOT): Promise<SysfsGpioChip[]> {
  const names = (await readdir(root)).filter((n) => /^gpiochip\d+$/.test(n)).sort();
  const chips: SysfsGpioChip[] = [];
  for (const name of names) {
    try {
      const [label, base, ngpio] = await Promise.all(
        ["label", "base", "ngpio"].map((f) => readTrimmed(join(root, name, f))),
      );
      if (label === undefined || !DECIMAL.test(base ?? "") || !DECIMAL.test(ngpio ?? "")) continue;
      chips.push({ name, label, base: Number(base), ngpio: Number(ngpio) });
    } catch {
      continue;
    }
  }
  return chips;
}

/** The chip carrying the header pins, by label preference; undefined if none is known. */
export function pickBcmChip(chips: readonly SysfsGpioChip[]): SysfsGpioChip | undefined {
  for (const label of BCM_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  return undefined;
}

/** sysfs number for a BCM pin on a chip whose BCM 0 is at `base`. */
export function bcmToSysfs(pin: number, base: number): number {
  checkPin(pin);
  checkBase(base);
  return base + pin;
}

function checkBase(base: unknown): number {
  if (typeof base !== "number" || !Number.isInteger(base) || base < 0) {
    throw new RangeError(`Invalid GPIO base ${String(base)}: expected an integer >= 0`);
  }
  return base;
}

export function describeChips(chips: readonly SysfsGpioChip[]): string {
  if (chips.length === 0) return "no gpiochip entries";
  return chips.map((c) => `${c.name} "${c.label}" (base ${c.base}, ${c.ngpio} lines)`).join(", ");
}

/**
 * Finds the BCM mapping under root. With `base` set (from configuration), that base is used as is,
 * for boards whose label we do not know yet; the matching chip's label is shown when there is one.
 */
export async function findBcmMapping(opts: { root?: string; base?: number } = {}): Promise<BcmMapping> {
  const root = opts.root ?? DEFAULT_SYSFS_ROOT;
  if (opts.base !== undefined) checkBase(opts.base);
  let chips: SysfsGpioChip[];
  try {
    chips = await listSysfsChips(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (opts.base !== undefined)
      return { label: "configured", base: opts.base, ngpio: HEADER_LINES, source: "configured" };
    throw new GpioChipNotFoundError(
      `No GPIO sysfs interface at ${root} (${code}): the kernel lacks CONFIG_GPIO_SYSFS or this is not a Raspberry Pi`,
      [],
    );
  }
  if (opts.base !== undefined) {
    const atBase = chips.find((c) => c.base === opts.base);
    return {
      label: atBase?.label ?? "configured",
      base: opts.base,
      ngpio: atBase?.ngpio ?? HEADER_LINES,
      source: "configured",
    };
  }
  const chip = pickBcmChip(chips);
  if (!chip) {
    throw new GpioChipNotFoundError(
      `No Raspberry Pi GPIO chip in ${root}: found ${describeChips(chips)}; expected a label ` +
        `${BCM_CHIP_LABELS.join(", ")}. If this board's header is on one of those chips, set its GPIO base in the configuration`,
      chips,
    );
  }
  return { label: chip.label, base: chip.base, ngpio: chip.ngpio, source: "sysfs" };
}
