// Hardware PWM through the kernel's sysfs ABI (dtoverlay=pwm or pwm-2chan): export the channel,
// then period / duty_cycle / enable under pwmchipN/pwmC, all in nanoseconds. The kernel refuses
// (EINVAL) a duty above the period, so the two are written in the order that keeps duty <= period.
// Right after export, udev is still giving the new files to the gpio group: writes that fail with
// EACCES then are retried for a bounded time (Raspberry Pi OS 99-com.rules).
import { join } from "node:path";
import { errnoOf, type SysfsIo } from "../sysfs/sysfsIo.ts";
import type { PwmController, PwmOutput } from "./types.ts";
import { DEFAULT_PWM_CLASS, listPwmChips, pickHeaderPwm, PWM_PINS, type HeaderPwm } from "./pwmMap.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const UDEV_WAIT_MS = 2000;
const UDEV_STEP_MS = 25;

export class PwmChipNotFoundError extends Error {
  constructor(root: string, found: string) {
    super(
      `No header PWM chip under ${root} (found: ${found}): add dtoverlay=pwm-2chan (GPIO 18/19) or dtoverlay=pwm (GPIO 18) to config.txt and reboot`,
    );
    this.name = "PwmChipNotFoundError";
  }
}

/** Finds the header's PWM chip under root (default /sys/class/pwm). */
export async function openSysfsPwm(io: SysfsIo, root = DEFAULT_PWM_CLASS): Promise<PwmController> {
  const chips = await listPwmChips(io, root);
  const header = pickHeaderPwm(chips);
  if (!header)
    throw new PwmChipNotFoundError(root, chips.map((c) => `${c.name} -> ${c.device}`).join(", ") || "no pwmchip");
  return new SysfsPwmController(io, root, header);
}

class SysfsPwmController implements PwmController {
  readonly description: string;
  readonly pins: readonly number[];
  #open = new Map<number, SysfsPwmOutput>();

  constructor(
    private readonly io: SysfsIo,
    private readonly root: string,
    private readonly header: HeaderPwm,
  ) {
    const { chip, layout } = header;
    this.description = `${chip.name} (${chip.device}, ${chip.npwm} channels, ${layout.board})`;
    this.pins = PWM_PINS.filter((p) => (layout.channels[p] ?? Infinity) < chip.npwm);
  }

  async open(pin: number): Promise<PwmOutput> {
    const channel = this.header.layout.channels[pin];
    if (channel === undefined || channel >= this.header.chip.npwm) {
      throw new Error(
        `GPIO ${pin} has no hardware PWM channel on ${this.description}; use GPIO ${this.pins.join(", ")}`,
      );
    }
    const other = [...this.#open.values()].find((o) => o.channel === channel);
    if (other)
      throw new Error(
        `GPIO ${pin} and GPIO ${other.pin} are the same PWM channel ${channel} on ${this.description}; use one of them`,
      );
    const chipDir = join(this.root, this.header.chip.name);
    const dir = join(chipDir, `pwm${channel}`);
    try {
      await this.io.writeFile(join(chipDir, "export"), String(channel));
    } catch (err) {
      if (errnoOf(err) !== "EBUSY") throw err; // EBUSY: exported already (a previous run that was killed)
    }
    const out = new SysfsPwmOutput(this.io, pin, channel, dir, async () => {
      this.#open.delete(pin);
      await this.io.writeFile(join(chipDir, "unexport"), String(channel)).catch(() => undefined);
    });
    await out.init();
    this.#open.set(pin, out);
    return out;
  }

  async close(): Promise<void> {
    for (const o of this.#open.values()) await o.close().catch(() => undefined);
  }
}

class SysfsPwmOutput implements PwmOutput {
  #periodNs = 0;
  #closed = false;

  constructor(
    private readonly io: SysfsIo,
    readonly pin: number,
    readonly channel: number,
    private readonly dir: string,
    private readonly release: () => Promise<void>,
  ) {}

  /** Waits for udev to hand the channel's files over, then reads where it stands. */
  async init(): Promise<void> {
    this.#periodNs = Number((await this.#retry(() => this.io.readFile(join(this.dir, "period")))).trim()) || 0;
  }

  async set(periodNs: number, dutyNs: number): Promise<void> {
    const period = Math.round(periodNs);
    const duty = Math.min(period, Math.max(0, Math.round(dutyNs)));
    if (!Number.isFinite(period) || period <= 0) throw new RangeError(`PWM period must be > 0 ns, got ${periodNs}`);
    // duty <= period at every step: shrink duty before the period, grow the period before duty.
    if (duty > this.#periodNs) {
      await this.#write("period", period);
      await this.#write("duty_cycle", duty);
    } else {
      await this.#write("duty_cycle", duty);
      await this.#write("period", period);
    }
  }

  async enable(on: boolean): Promise<void> {
    await this.#retry(() => this.io.writeFile(join(this.dir, "enable"), on ? "1" : "0"));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.enable(false).catch(() => undefined);
    await this.release();
  }

  async #write(attr: "period" | "duty_cycle", value: number): Promise<void> {
    await this.#retry(() => this.io.writeFile(join(this.dir, attr), String(value)));
    if (attr === "period") this.#periodNs = value;
  }

  /** Retries while the files are missing or not yet ours (ENOENT/EACCES right after export). */
  async #retry<T>(op: () => Promise<T>): Promise<T> {
    const deadline = performance.now() + UDEV_WAIT_MS;
    for (;;) {
      try {
        return await op();
      } catch (err) {
        const code = errnoOf(err);
        if ((code !== "EACCES" && code !== "ENOENT") || performance.now() >= deadline) throw err;
        await sleep(UDEV_STEP_MS);
      }
    }
  }
}
