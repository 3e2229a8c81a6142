// Fake /sys/class/gpio trees in temp dirs, laid out as the kernel does: one gpiochipN directory
// per controller with label/base/ngpio, plus the export/unexport files.
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "../../fakes/tempDir.ts";

export interface FakeChip {
  label: string;
  base: number;
  ngpio: number;
}

/** Chip sets seen on real boards (labels and bases as reported in fivdi/onoff#199 and raspberrypi/linux#6084). */
export const BOARDS = {
  /** Any Pi on a kernel before 6.6: header chip at base 0. */
  oldKernel: [{ label: "pinctrl-bcm2835", base: 0, ngpio: 54 }],
  /** Pi 4 on kernel 6.6+: the SoC chip at 512 and the firmware expander above it. */
  pi4Kernel66: [
    { label: "pinctrl-bcm2711", base: 512, ngpio: 58 },
    { label: "raspberrypi-exp-gpio", base: 570, ngpio: 8 },
  ],
  /** Pi 5: the SoC's own controllers first, the header on RP1 at 571. */
  pi5: [
    { label: "gpio-brcmstb@107d508500", base: 512, ngpio: 32 },
    { label: "gpio-brcmstb@107d517c00", base: 544, ngpio: 15 },
    { label: "pinctrl-rp1", base: 571, ngpio: 54 },
  ],
} satisfies Record<string, FakeChip[]>;

/** Writes a gpio class directory (the thing mounted at /sys/class/gpio) into dir. */
export function writeGpioClassDir(dir: string, chips: readonly FakeChip[]): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const c of chips) {
    const chipDir = path.join(dir, `gpiochip${c.base}`);
    fs.mkdirSync(chipDir);
    fs.writeFileSync(path.join(chipDir, "label"), `${c.label}\n`);
    fs.writeFileSync(path.join(chipDir, "base"), `${c.base}\n`);
    fs.writeFileSync(path.join(chipDir, "ngpio"), `${c.ngpio}\n`);
  }
  fs.writeFileSync(path.join(dir, "export"), "");
  fs.writeFileSync(path.join(dir, "unexport"), "");
  return dir;
}

export function makeTempDir(tag: string): string {
  return tempDir(`gpio-${tag}-`);
}
