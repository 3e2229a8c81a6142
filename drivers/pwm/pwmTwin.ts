// The simulated PWM at the level the kernel presents it: /sys/class/pwm/pwmchipN with `npwm`,
// `export`, `unexport` and a `device` link to the platform device (the name the driver finds the
// chip by), laid out as on a Pi 4 (fe20c000.pwm, 2 channels, pwmchip0) or a Pi 5 (the RP1's
// 1f00098000.pwm, 4 channels, as pwmchip2 behind the SoC's own fan PWM). Writes behave like the
// kernel's: export creates pwmC (EBUSY if it exists), duty above period and enabling without a
// period are EINVAL, and the state of each channel is what the tests and the demo look at.
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errnoError } from "../sysfs/sysfsIo.ts";
import { putFile, removeTree, type TwinSysfsIo } from "../sysfs/twinIo.ts";

export interface PwmChannelState {
  periodNs: number;
  dutyNs: number;
  enabled: boolean;
}

const BOARDS = {
  pi4: { chips: [{ name: "pwmchip0", device: "fe20c000.pwm", npwm: 2 }] },
  pi5: {
    chips: [
      { name: "pwmchip0", device: "107d517a80.pwm", npwm: 2 },
      { name: "pwmchip2", device: "1f00098000.pwm", npwm: 4 },
    ],
  },
} as const;

export type PwmBoard = keyof typeof BOARDS;

export class PwmTwin {
  readonly #io: TwinSysfsIo;
  readonly root: string;
  readonly board: PwmBoard;
  #state = new Map<string, PwmChannelState>();

  constructor(io: TwinSysfsIo, root: string, board: PwmBoard = "pi4") {
    this.#io = io;
    this.root = root;
    this.board = board;
  }

  /** Lays out the chips (the overlay is loaded). */
  async install(): Promise<void> {
    const platform = join(this.root, "..", "..", "devices", "platform");
    for (const chip of BOARDS[this.board].chips) {
      const dir = join(this.root, chip.name);
      await mkdir(join(platform, chip.device, "pwm", chip.name), { recursive: true });
      await mkdir(dir, { recursive: true });
      await symlink(join(platform, chip.device), join(dir, "device"));
      await putFile(join(dir, "npwm"), `${chip.npwm}\n`);
      await putFile(join(dir, "export"), "");
      await putFile(join(dir, "unexport"), "");
      this.#io.onWrite(join(dir, "export"), (data) => this.#export(dir, chip.npwm, data));
      this.#io.onWrite(join(dir, "unexport"), (data) => this.#unexport(dir, chip.npwm, data));
    }
  }

  /** The state of channel `channel` on the header chip, or undefined when not exported. */
  channel(channel: number): PwmChannelState | undefined {
    const chip = BOARDS[this.board].chips.at(-1)!;
    const s = this.#state.get(join(this.root, chip.name, `pwm${channel}`));
    return s ? { ...s } : undefined;
  }

  #channelNumber(npwm: number, data: string): number {
    const text = data.trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n >= npwm) throw errnoError("EINVAL", `no PWM channel ${JSON.stringify(text)}`);
    return n;
  }

  async #export(chipDir: string, npwm: number, data: string): Promise<void> {
    const dir = join(chipDir, `pwm${this.#channelNumber(npwm, data)}`);
    if (this.#state.has(dir)) throw errnoError("EBUSY", "channel already exported");
    const state: PwmChannelState = { periodNs: 0, dutyNs: 0, enabled: false };
    this.#state.set(dir, state);
    await putFile(join(dir, "period"), "0\n");
    await putFile(join(dir, "duty_cycle"), "0\n");
    await putFile(join(dir, "enable"), "0\n");
    await putFile(join(dir, "polarity"), "normal\n");
    const number = (text: string): number => {
      if (!/^\d+$/.test(text.trim())) throw errnoError("EINVAL", `not a number: ${JSON.stringify(text)}`);
      return Number(text.trim());
    };
    this.#io.onWrite(join(dir, "period"), async (text) => {
      const v = number(text);
      if (v < state.dutyNs || v === 0) throw errnoError("EINVAL", "period below duty_cycle");
      state.periodNs = v;
      await writeFile(join(dir, "period"), `${v}\n`);
    });
    this.#io.onWrite(join(dir, "duty_cycle"), async (text) => {
      const v = number(text);
      if (v > state.periodNs) throw errnoError("EINVAL", "duty_cycle above period");
      state.dutyNs = v;
      await writeFile(join(dir, "duty_cycle"), `${v}\n`);
    });
    this.#io.onWrite(join(dir, "enable"), async (text) => {
      const v = text.trim();
      if (v !== "0" && v !== "1") throw errnoError("EINVAL", "enable takes 0 or 1");
      if (v === "1" && state.periodNs === 0) throw errnoError("EINVAL", "no period set");
      state.enabled = v === "1";
      await writeFile(join(dir, "enable"), `${v}\n`);
    });
  }

  async #unexport(chipDir: string, npwm: number, data: string): Promise<void> {
    const dir = join(chipDir, `pwm${this.#channelNumber(npwm, data)}`);
    if (!this.#state.has(dir)) throw errnoError("EINVAL", "channel not exported");
    this.#state.delete(dir);
    this.#io.forget(dir);
    await removeTree(dir);
  }
}
