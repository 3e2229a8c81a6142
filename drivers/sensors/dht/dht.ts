// Driver for DHT22 (AM2302) and DHT11 through the kernel's dht11 IIO driver
// (dtoverlay=dht11,gpiopin=N; it handles both parts): the device is
// /sys/bus/iio/devices/iio:deviceN whose `name` is the overlay's node, "dht11@<pin in hex>".
// A read takes in_temp_input (m°C) and in_humidityrelative_input (m%RH). The kernel bit-bangs the
// one-wire protocol with interrupts and often misses an edge, so reads fail with EIO (checksum,
// undecodable frame) or ETIMEDOUT (no answer): those are retried, but only within the sensor's
// 2 s minimum sampling interval, so one read is one sample period and a dead sensor is an error
// after that, not a hang. Never bit-banged from JavaScript.
import { join } from "node:path";
import { errnoOf, type SysfsIo } from "../../sysfs/sysfsIo.ts";
import { checkKnownOptions, sleep } from "../common.ts";
import { KernelSensorBase, kernelSensorError } from "../kernelSensorBase.ts";
import { SensorError, type Sensor, type SensorReading } from "../types.ts";
import type { DhtType } from "./dhtFrame.ts";

export const DEFAULT_IIO_DEVICES = "/sys/bus/iio/devices";

/** AM2302 datasheet: "collecting period" at least 2 s; the kernel caches a reading for 2 s too. */
export const DHT_MIN_INTERVAL_MS = 2000;
const RETRY_DELAY_MS = 250;

/** Physical range per part (datasheets): DHT22 -40..80 °C, DHT11 0..50 °C; both 0..100 %RH. */
const RANGE: Record<DhtType, { min: number; max: number }> = {
  dht22: { min: -40, max: 80 },
  dht11: { min: 0, max: 50 },
};

export interface DhtOptions {
  /** BCM GPIO of the overlay's gpiopin; picks the device when there are several. */
  pin: number | undefined;
  /** "iio:device0": names the device directly. */
  iioDevice: string | undefined;
}

export interface DhtTiming {
  /** Budget for retries of one read (default the 2 s minimum interval). */
  budgetMs?: number;
  retryDelayMs?: number;
}

export function parseDhtOptions(chip: DhtType, options: Record<string, unknown> = {}): DhtOptions {
  checkKnownOptions(chip, options, ["pin", "iioDevice"]);
  const { pin, iioDevice } = options;
  if (pin !== undefined && (typeof pin !== "number" || !Number.isInteger(pin) || pin < 0 || pin > 27)) {
    throw new Error(
      `Invalid option pin for ${chip}: expected the BCM GPIO 0-27 of dtoverlay=dht11,gpiopin=N, got ${JSON.stringify(pin)}`,
    );
  }
  if (iioDevice !== undefined && (typeof iioDevice !== "string" || !/^iio:device\d+$/.test(iioDevice))) {
    throw new Error(`Invalid option iioDevice for ${chip}: expected "iio:deviceN", got ${JSON.stringify(iioDevice)}`);
  }
  return { pin: pin as number | undefined, iioDevice: iioDevice as string | undefined };
}

/** The GPIO a dht11 IIO device's name says it is on ("dht11@11" -> 17; "11.dht11" on some kernels). */
export function dhtPinOf(name: string): number | null {
  const m = /^dht11@([0-9a-f]+)$/.exec(name) ?? /^([0-9a-f]+)\.dht11$/.exec(name);
  return m ? Number.parseInt(m[1]!, 16) : null;
}

export interface IioDht {
  device: string;
  name: string;
  pin: number | null;
}

/** The dht11 IIO devices present, [] when none (no overlay, or IIO absent). */
export async function listIioDht(io: SysfsIo, root = DEFAULT_IIO_DEVICES): Promise<IioDht[]> {
  let entries: string[];
  try {
    entries = (await io.readdir(root)).filter((n) => /^iio:device\d+$/.test(n)).sort();
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return [];
    throw err;
  }
  const out: IioDht[] = [];
  for (const device of entries) {
    const name = (await io.readFile(join(root, device, "name")).catch(() => "")).trim();
    if (name === "dht11" || name.startsWith("dht11@") || name.endsWith(".dht11"))
      out.push({ device, name, pin: dhtPinOf(name) });
  }
  return out;
}

export function openDht(
  chip: DhtType,
  io: SysfsIo,
  options?: Record<string, unknown>,
  root = DEFAULT_IIO_DEVICES,
  timing: DhtTiming = {},
): Promise<Sensor> {
  return new DhtSensor(chip, io, parseDhtOptions(chip, options), root, timing).open();
}

class DhtSensor extends KernelSensorBase<DhtOptions> {
  readonly chip: DhtType;
  readonly units = { temperature: "°C", humidity: "%" };
  readonly #root: string;
  readonly #budgetMs: number;
  readonly #retryDelayMs: number;
  #device: string | undefined;
  readonly stats = { retries: 0 };

  constructor(chip: DhtType, io: SysfsIo, options: DhtOptions, root: string, timing: DhtTiming) {
    super(io, options);
    this.chip = chip;
    this.#root = root;
    this.#budgetMs = timing.budgetMs ?? DHT_MIN_INTERVAL_MS;
    this.#retryDelayMs = timing.retryDelayMs ?? RETRY_DELAY_MS;
  }

  protected get label(): string {
    const where = this.options.pin !== undefined ? ` on GPIO ${this.options.pin}` : "";
    return `${this.chip}${where}${this.#device ? ` (${this.#device})` : ""}`;
  }

  protected async initialise(): Promise<void> {
    const found = await listIioDht(this.io, this.#root);
    const { pin, iioDevice } = this.options;
    const list = found.map((d) => `${d.device} "${d.name}"`).join(", ") || "none";
    let pick: IioDht | undefined;
    if (iioDevice) pick = found.find((d) => d.device === iioDevice);
    else if (pin !== undefined) pick = found.find((d) => d.pin === pin) ?? (found.length === 1 ? found[0] : undefined);
    else if (found.length === 1) pick = found[0];
    else if (found.length > 1)
      throw new SensorError(
        "IO",
        `${this.chip}: several dht11 IIO devices (${list}): set options.pin or options.iioDevice`,
      );
    if (!pick)
      throw new SensorError(
        "ABSENT",
        `${this.chip}: no matching dht11 IIO device under ${this.#root} (found: ${list}); is dtoverlay=dht11,gpiopin=N set?`,
      );
    this.#device = pick.device;
  }

  protected async measure(): Promise<SensorReading> {
    const deadline = performance.now() + this.#budgetMs;
    for (;;) {
      try {
        const temperature = await this.#readMilli("in_temp_input");
        const humidity = await this.#readMilli("in_humidityrelative_input");
        return { values: this.#check(temperature / 1000, humidity / 1000), ts: Date.now() };
      } catch (err) {
        const code = errnoOf(err);
        const transient = code === "EIO" || code === "ETIMEDOUT";
        if (!transient || performance.now() + this.#retryDelayMs >= deadline) {
          if (transient)
            throw new SensorError(
              code === "EIO" ? "IO" : "TIMEOUT",
              `${this.label}: no good transfer within ${this.#budgetMs} ms (last: ${code}); check wiring and the pull-up`,
            );
          throw kernelSensorError(err, this.label);
        }
        this.stats.retries++;
        await sleep(this.#retryDelayMs);
      }
    }
  }

  async #readMilli(attribute: string): Promise<number> {
    const text = (await this.io.readFile(join(this.#root, this.#device!, attribute))).trim();
    if (!/^-?\d+$/.test(text))
      throw new SensorError("BAD_DATA", `${this.label}: ${attribute} reads ${JSON.stringify(text.slice(0, 40))}`);
    return Number(text);
  }

  #check(temperature: number, humidity: number): Record<string, number> {
    const r = RANGE[this.chip];
    if (temperature < r.min || temperature > r.max || humidity < 0 || humidity > 100) {
      throw new SensorError(
        "BAD_DATA",
        `${this.label}: ${temperature} °C / ${humidity} %RH is outside what a ${this.chip.toUpperCase()} measures`,
      );
    }
    return { temperature: Math.round(temperature * 100) / 100, humidity: Math.round(humidity * 100) / 100 };
  }
}
