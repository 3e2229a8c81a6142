// Entry point of the GPIO drivers: pick the simulated or the real chip. App code calls
// openGpioChip() and never imports onoff; the demo drives sim inputs through asSimChip(chip).
import { existsSync } from "node:fs";
import { silentDriverLog, type DriverLog } from "../log.ts";
import { openOnoffChip } from "./onoffChip.ts";
import { SimGpioChip } from "./sim.ts";
import { DEFAULT_SYSFS_ROOT } from "./sysfsMap.ts";
import type { GpioChip } from "./types.ts";

export type {
  BinaryValue,
  Direction,
  Edge,
  GpioChip,
  GpioChipInfo,
  GpioPin,
  GpioPinOptions,
  WatchCallback,
} from "./types.ts";
export { SimGpioChip, type BounceOptions, type SimChangeListener } from "./sim.ts";
export { BCM_CHIP_LABELS, GpioChipNotFoundError, bcmToSysfs, findBcmMapping, type BcmMapping } from "./sysfsMap.ts";

export type GpioChipKind = "sim" | "pi" | "auto";

export interface OpenGpioChipOptions {
  /** Where to look for gpiochip* entries; default /sys/class/gpio (onoff itself always uses that). */
  sysfsRoot?: string;
  /** sysfs number of BCM 0, for boards whose chip label is not known; default: read from sysfs. */
  base?: number;
  log?: DriverLog;
}

/**
 * "sim": the simulated chip. "pi": the real chip, rejecting with a clear reason when it cannot be
 * used. "auto": the real chip when sysfs GPIO exists and a known chip is found, else the sim,
 * with the reason logged so a Pi silently running on the sim is visible in the journal.
 */
export async function openGpioChip(kind: GpioChipKind, opts: OpenGpioChipOptions = {}): Promise<GpioChip> {
  const log = opts.log ?? silentDriverLog();
  const root = opts.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
  switch (kind) {
    case "sim":
      log.info("GPIO: using the simulated chip (hardware: sim)");
      return new SimGpioChip({ log });
    case "pi": {
      const chip = await openOnoffChip({ ...opts, log });
      log.info(`GPIO: using ${chip.info.label}, BCM 0 = sysfs ${chip.info.base} (${chip.mapping.source})`);
      return chip;
    }
    case "auto": {
      if (!existsSync(root)) {
        log.info(`GPIO: no ${root}, using the simulated chip`);
        return new SimGpioChip({ log });
      }
      try {
        const chip = await openOnoffChip({ ...opts, log });
        log.info(`GPIO: using ${chip.info.label}, BCM 0 = sysfs ${chip.info.base} (${chip.mapping.source})`);
        return chip;
      } catch (err) {
        log.warn(
          `GPIO: real chip unusable, using the simulated chip: ${err instanceof Error ? err.message : String(err)}`,
        );
        return new SimGpioChip({ log });
      }
    }
    default:
      throw new RangeError(`Invalid GPIO chip kind ${String(kind)}: expected "sim", "pi" or "auto"`);
  }
}

/** The chip as a SimGpioChip when it is one (for the demo's virtual buttons), else undefined. */
export function asSimChip(chip: GpioChip): SimGpioChip | undefined {
  return chip instanceof SimGpioChip ? chip : undefined;
}
