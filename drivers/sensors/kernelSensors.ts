// The registry of sensors the kernel reads for us (1-Wire w1_therm, the dht11 IIO driver), next
// to the I2C registry in index.ts: the device runtime opens them by chip name with the sysfs
// roots and file access of the hardware in use (the real /sys, or the twins' temp-dir tree).
import type { SysfsIo } from "../sysfs/sysfsIo.ts";
import type { Sensor } from "./types.ts";
import { DEFAULT_W1_DEVICES, openDs18b20, parseDs18b20Options } from "./ds18b20/ds18b20.ts";
import { DEFAULT_IIO_DEVICES, openDht, parseDhtOptions } from "./dht/dht.ts";

export const KERNEL_SENSOR_CHIP_NAMES = ["ds18b20", "dht22", "dht11"] as const;
export type KernelSensorChip = (typeof KERNEL_SENSOR_CHIP_NAMES)[number];

export interface KernelSysfs {
  io: SysfsIo;
  /** /sys/bus/w1/devices */
  w1Devices: string;
  /** /sys/bus/iio/devices */
  iioDevices: string;
}

export const DEFAULT_KERNEL_PATHS = Object.freeze({ w1Devices: DEFAULT_W1_DEVICES, iioDevices: DEFAULT_IIO_DEVICES });

/** The GPIO the kernel overlay drives for this sensor (options.pin), default GPIO 4 as in both overlays. */
export function kernelSensorPin(options: Record<string, unknown>): number {
  return typeof options.pin === "number" ? options.pin : 4;
}

export function isKernelSensorChip(chip: unknown): chip is KernelSensorChip {
  return typeof chip === "string" && (KERNEL_SENSOR_CHIP_NAMES as readonly string[]).includes(chip);
}

function parse(chip: KernelSensorChip, options: Record<string, unknown>): void {
  if (chip === "ds18b20") {
    const { pin, ...rest } = options;
    if (pin !== undefined && (typeof pin !== "number" || !Number.isInteger(pin) || pin < 0 || pin > 27)) {
      throw new Error(
        `Invalid option pin for ds18b20: expected the BCM GPIO 0-27 of dtoverlay=w1-gpio,gpiopin=N, got ${JSON.stringify(pin)}`,
      );
    }
    parseDs18b20Options(rest);
  } else parseDhtOptions(chip, options);
}

/** Validates options without touching hardware: null when fine, else the message. */
export function checkKernelSensorOptions(chip: KernelSensorChip, options: Record<string, unknown>): string | null {
  try {
    parse(chip, options);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function openKernelSensor(
  chip: KernelSensorChip,
  sysfs: KernelSysfs,
  options: Record<string, unknown> = {},
): Promise<Sensor> {
  parse(chip, options);
  if (chip === "ds18b20") {
    // pin says where the overlay put the bus (for the header view); the kernel finds the probes.
    const { pin: _pin, ...rest } = options;
    return openDs18b20(sysfs.io, rest, sysfs.w1Devices);
  }
  return openDht(chip, sysfs.io, options, sysfs.iioDevices);
}
