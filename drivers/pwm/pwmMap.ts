// Which /sys/class/pwm/pwmchipN drives the header, and which channel each GPIO is. The chip
// number depends on probe order (on a Pi 5 the RP1's PWM0 is pwmchip2 on some kernels, pwmchip0 on
// others), so it is found by the platform device its `device` link points to, never by number, as
// the GPIO base is found by label (drivers/gpio/sysfsMap.ts):
//   BCM2835/6/7 (Pi 1-3, Zero): 2020c000.pwm / 3f20c000.pwm / 7e20c000.pwm, 2 channels:
//     GPIO 12 and 18 are PWM0 channel 0, GPIO 13 and 19 channel 1 (BCM2835 peripherals 9.5)
//   BCM2711 (Pi 4, 400, CM4): fe20c000.pwm, same two channels
//   RP1 (Pi 5): 1f00098000.pwm, 4 channels: GPIO 12 -> 0, 13 -> 1, 18 -> 2, 19 -> 3 (RP1
//     peripherals, GPIO function table, PWM0_CHAN0..3)
import { basename, join } from "node:path";
import type { SysfsIo } from "../sysfs/sysfsIo.ts";

export const DEFAULT_PWM_CLASS = "/sys/class/pwm";
export const PWM_PINS = [12, 13, 18, 19] as const;

export interface PwmLayout {
  /** Platform device name pattern. */
  device: RegExp;
  board: string;
  channels: Readonly<Record<number, number>>;
}

export const PWM_LAYOUTS: readonly PwmLayout[] = [
  { device: /^1f00098000\.pwm$/, board: "Raspberry Pi 5 (RP1 PWM0)", channels: { 12: 0, 13: 1, 18: 2, 19: 3 } },
  {
    device: /^(fe|7e|3f|20)20c000\.pwm$/,
    board: "Raspberry Pi 1-4 (BCM PWM)",
    channels: { 12: 0, 13: 1, 18: 0, 19: 1 },
  },
];

export interface SysfsPwmChip {
  name: string;
  device: string;
  npwm: number;
}

/** The pwmchip* entries under root with their platform device and channel count; [] when none. */
export async function listPwmChips(io: SysfsIo, root = DEFAULT_PWM_CLASS): Promise<SysfsPwmChip[]> {
  let names: string[];
  try {
    names = (await io.readdir(root)).filter((n) => /^pwmchip\d+$/.test(n)).sort();
  } catch {
    return [];
  }
  const chips: SysfsPwmChip[] = [];
  for (const name of names) {
    try {
      const device = basename(await io.readlink(join(root, name, "device")));
      const npwm = Number((await io.readFile(join(root, name, "npwm"))).trim());
      if (Number.isInteger(npwm) && npwm > 0) chips.push({ name, device, npwm });
    } catch {
      /* a half-registered chip is not one we can use */
    }
  }
  return chips;
}

export interface HeaderPwm {
  chip: SysfsPwmChip;
  layout: PwmLayout;
}

/** The chip that drives the header pins, or undefined. */
export function pickHeaderPwm(chips: readonly SysfsPwmChip[]): HeaderPwm | undefined {
  for (const layout of PWM_LAYOUTS) {
    const chip = chips.find((c) => layout.device.test(c.device));
    if (chip) return { chip, layout };
  }
  return undefined;
}
