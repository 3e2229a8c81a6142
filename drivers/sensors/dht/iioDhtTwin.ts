// The simulated DHT22/DHT11 at the level the kernel presents it: /sys/bus/iio/devices/iio:deviceN
// with `name` ("dht11@<pin hex>", the overlay's node), `in_temp_input` and
// `in_humidityrelative_input`. Each read does what the kernel's dht11 driver does: unless the last
// good transfer is under 2 s old (the cached values are returned then), a new frame is produced by
// the simulated part and decoded with the kernel's rules (dhtFrame.ts); a queued fault makes the
// read fail with EIO (checksum) or ETIMEDOUT (no answer), as the real driver often does.
import { join } from "node:path";
import { errnoError } from "../../sysfs/sysfsIo.ts";
import { putFile, removeTree, type TwinSysfsIo } from "../../sysfs/twinIo.ts";
import { dht11Frame, dht22Frame, kernelDecode, type DhtType } from "./dhtFrame.ts";

/** dht11.c DHT11_DATA_VALID_TIME: a reading younger than this is served from the cache. */
const DATA_VALID_MS = 2000;

interface TwinDevice {
  type: DhtType;
  temperature: number;
  humidity: number;
  faults: string[];
  cached: { at: number; milliCelsius: number; milliRh: number } | null;
  transfers: number;
}

export class IioDhtTwin {
  readonly #io: TwinSysfsIo;
  readonly root: string;
  readonly #now: () => number;
  #devices = new Map<string, TwinDevice>();

  constructor(io: TwinSysfsIo, root: string, opts: { now?: () => number } = {}) {
    this.#io = io;
    this.root = root;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Adds iio:device<index> for a sensor on `pin`; returns its directory name. */
  async addSensor(
    index: number,
    pin: number,
    type: DhtType,
    env: { temperature?: number; humidity?: number } = {},
  ): Promise<string> {
    const device = `iio:device${index}`;
    const dir = join(this.root, device);
    const d: TwinDevice = {
      type,
      temperature: env.temperature ?? 21.5,
      humidity: env.humidity ?? 45,
      faults: [],
      cached: null,
      transfers: 0,
    };
    this.#devices.set(device, d);
    await putFile(join(dir, "name"), `dht11@${pin.toString(16)}\n`);
    for (const [attr, key] of [
      ["in_temp_input", "milliCelsius"],
      ["in_humidityrelative_input", "milliRh"],
    ] as const) {
      await putFile(join(dir, attr), "");
      this.#io.onRead(join(dir, attr), () => `${this.#sample(d)[key]}\n`);
    }
    return device;
  }

  async removeSensor(device: string): Promise<void> {
    this.#devices.delete(device);
    this.#io.forget(join(this.root, device));
    await removeTree(join(this.root, device));
  }

  /** The next `times` transfers fail with `code` (EIO: bad checksum; ETIMEDOUT: no answer). */
  fail(device: string, code: "EIO" | "ETIMEDOUT", times: number): void {
    const d = this.#get(device);
    for (let i = 0; i < times; i++) d.faults.push(code);
    d.cached = null;
  }

  set(env: { temperature?: number; humidity?: number }, device?: string): void {
    for (const [name, d] of this.#devices) {
      if (device && name !== device) continue;
      if (typeof env.temperature === "number") d.temperature = env.temperature;
      if (typeof env.humidity === "number") d.humidity = env.humidity;
      d.cached = null; // tests and the demo want the change seen now, not after the cache expires
    }
  }

  has(device: string): boolean {
    return this.#devices.has(device);
  }

  transfers(device: string): number {
    return this.#get(device).transfers;
  }

  #get(device: string): TwinDevice {
    const d = this.#devices.get(device);
    if (!d) throw new Error(`no ${device}`);
    return d;
  }

  #sample(d: TwinDevice): { milliCelsius: number; milliRh: number } {
    if (d.cached && this.#now() - d.cached.at < DATA_VALID_MS) return d.cached;
    d.transfers++;
    const fault = d.faults.shift();
    if (fault)
      throw errnoError(fault, fault === "EIO" ? "dht11: invalid checksum" : "dht11: Only 0 signal edges detected");
    const frame = d.type === "dht22" ? dht22Frame(d.temperature, d.humidity) : dht11Frame(d.temperature, d.humidity);
    const decoded = kernelDecode(frame);
    if (!decoded.ok) throw errnoError("EIO", `dht11: ${decoded.reason}`);
    d.cached = { at: this.#now(), milliCelsius: decoded.milliCelsius, milliRh: decoded.milliRh };
    return d.cached;
  }
}
