// The simulated kernel interfaces for sim mode and tests: one temp dir holding a fake
// /sys/bus/w1/devices, /sys/bus/iio/devices and /sys/class/pwm, served through TwinSysfsIo, with
// the twins that play the kernel's part in each.
import { mkdtemp, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TwinSysfsIo, removeTree } from "./twinIo.ts";
import { W1Twin } from "../sensors/ds18b20/w1Twin.ts";
import { IioDhtTwin } from "../sensors/dht/iioDhtTwin.ts";
import type { KernelSysfs } from "../sensors/kernelSensors.ts";
import { PwmTwin, type PwmBoard } from "../pwm/pwmTwin.ts";

export class SimSysfs implements KernelSysfs {
  readonly io = new TwinSysfsIo();
  readonly w1: W1Twin;
  readonly iio: IioDhtTwin;
  readonly pwm: PwmTwin;

  private constructor(
    readonly root: string,
    board: PwmBoard,
  ) {
    this.w1 = new W1Twin(this.io, this.w1Devices);
    this.iio = new IioDhtTwin(this.io, this.iioDevices);
    this.pwm = new PwmTwin(this.io, this.pwmClass, board);
  }

  get w1Devices(): string {
    return join(this.root, "bus", "w1", "devices");
  }

  get iioDevices(): string {
    return join(this.root, "bus", "iio", "devices");
  }

  get pwmClass(): string {
    return join(this.root, "class", "pwm");
  }

  /** A fresh tree under the OS temp dir, its PWM chips laid out as on a Pi 4 or a Pi 5. */
  static async create(opts: { parent?: string; board?: PwmBoard } = {}): Promise<SimSysfs> {
    const sim = new SimSysfs(await mkdtemp(join(opts.parent ?? tmpdir(), "rpi-tb-sysfs-")), opts.board ?? "pi4");
    for (const dir of [sim.w1Devices, sim.iioDevices, sim.pwmClass]) await mkdir(dir, { recursive: true });
    await sim.pwm.install();
    return sim;
  }

  async remove(): Promise<void> {
    await removeTree(this.root);
  }
}
