// The simulated 1-Wire bus at the level the kernel presents it: a /sys/bus/w1/devices tree in a
// directory of our choosing, with a w1_bus_master1 entry and one 28-<serial> directory per probe
// holding `name`, `w1_slave` and (unless `legacy`, kernels before 5.10) `temperature`. Both
// attributes are computed at read time from the probe's state, as w1_therm does: a CRC failure
// makes `temperature` fail with EIO and `w1_slave` print "NO"; a probe that lost power reads the
// 85.000 °C power-on value; a vanished probe's directory goes away.
import { join } from "node:path";
import { errnoError } from "../../sysfs/sysfsIo.ts";
import { putFile, removeTree, type TwinSysfsIo } from "../../sysfs/twinIo.ts";
import { formatW1Slave, POWER_ON_MILLIDEGREES, ROM_ID, scratchpadFor, w1Crc8 } from "./ds18b20Decode.ts";

interface Probe {
  celsius: number;
  crcFailures: number;
  powerOnReads: number;
}

export class W1Twin {
  readonly #io: TwinSysfsIo;
  readonly root: string;
  readonly #legacy: boolean;
  #probes = new Map<string, Probe>();

  constructor(io: TwinSysfsIo, root: string, opts: { legacy?: boolean } = {}) {
    this.#io = io;
    this.root = root;
    this.#legacy = opts.legacy ?? false;
  }

  get probes(): string[] {
    return [...this.#probes.keys()].sort();
  }

  async addProbe(romId: string, celsius = 21.5): Promise<void> {
    if (!ROM_ID.test(romId)) throw new Error(`not a DS18B20 ROM id: ${romId}`);
    await putFile(join(this.root, "w1_bus_master1", "w1_master_slave_count"), "0\n");
    const dir = join(this.root, romId);
    const probe: Probe = { celsius, crcFailures: 0, powerOnReads: 0 };
    this.#probes.set(romId, probe);
    await putFile(join(dir, "name"), `${romId}\n`);
    await putFile(join(dir, "w1_slave"), "");
    this.#io.onRead(join(dir, "w1_slave"), () => this.#w1Slave(probe));
    if (!this.#legacy) {
      await putFile(join(dir, "temperature"), "");
      this.#io.onRead(join(dir, "temperature"), () => {
        const { bad, millidegrees } = this.#convert(probe);
        if (bad) throw errnoError("EIO", "w1_therm: Read failed CRC check");
        return `${millidegrees}\n`;
      });
    }
  }

  /** The probe is unplugged: the kernel drops its directory after its next searches. */
  async removeProbe(romId: string): Promise<void> {
    this.#probes.delete(romId);
    this.#io.forget(join(this.root, romId));
    await removeTree(join(this.root, romId));
  }

  setTemperature(romId: string, celsius: number): void {
    this.#probe(romId).celsius = celsius;
  }

  /** The next `times` conversions fail their CRC (noise on a long cable). */
  failCrc(romId: string, times: number): void {
    this.#probe(romId).crcFailures += times;
  }

  /** The next `times` reads show the power-on value (the probe browned out before converting). */
  powerOnValue(romId: string, times: number): void {
    this.#probe(romId).powerOnReads += times;
  }

  /** ChipModel-style environment update (the demo world): every probe follows `temperature`. */
  set(env: { temperature?: number }): void {
    if (typeof env.temperature === "number") for (const p of this.#probes.values()) p.celsius = env.temperature;
  }

  #probe(romId: string): Probe {
    const p = this.#probes.get(romId);
    if (!p) throw new Error(`no probe ${romId}`);
    return p;
  }

  #convert(p: Probe): { bad: boolean; millidegrees: number; pad: Uint8Array } {
    const celsius = p.powerOnReads > 0 ? POWER_ON_MILLIDEGREES / 1000 : p.celsius;
    if (p.powerOnReads > 0) p.powerOnReads--;
    const pad = scratchpadFor(celsius);
    const bad = p.crcFailures > 0;
    if (bad) {
      p.crcFailures--;
      pad[1] = pad[1]! ^ 0x10; // a flipped bit on the wire
    }
    // w1_therm prints the register as read, converted at 12 bits: count · 1000 / 16.
    const reg = pad[0]! | (pad[1]! << 8);
    const millidegrees = Math.trunc(((reg & 0x8000 ? reg - 0x10000 : reg) * 1000) / 16);
    return { bad: bad && w1Crc8(pad.subarray(0, 8)) !== pad[8], millidegrees, pad };
  }

  #w1Slave(p: Probe): string {
    const { millidegrees, pad } = this.#convert(p);
    return formatW1Slave(pad, millidegrees);
  }
}
