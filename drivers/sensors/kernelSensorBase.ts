// The lifecycle of a sensor the kernel reads for us (w1_therm for the DS18B20, the dht11 IIO
// driver for DHT11/DHT22): like I2cSensorBase, set-up (finding the device in sysfs) runs once at
// open and again after any failed read, since a probe that vanished comes back as a new sysfs
// directory. Failures leave as SensorErrors: a missing device or attribute (ENOENT, ENODEV, ENXIO)
// is ABSENT, ETIMEDOUT is TIMEOUT, anything else IO.
import type { SysfsIo } from "../sysfs/sysfsIo.ts";
import { errnoOf } from "../sysfs/sysfsIo.ts";
import { SensorError, type Sensor, type SensorReading } from "./types.ts";

export function kernelSensorError(err: unknown, label: string): SensorError {
  if (err instanceof SensorError) return err;
  const code = errnoOf(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (code === "ENOENT" || code === "ENODEV" || code === "ENXIO")
    return new SensorError("ABSENT", `${label} is gone (${detail})`);
  if (code === "ETIMEDOUT") return new SensorError("TIMEOUT", `${label}: ${detail}`);
  return new SensorError("IO", `${label}: ${detail}`);
}

export abstract class KernelSensorBase<Options> implements Sensor {
  abstract readonly chip: string;
  abstract readonly units: Record<string, string>;
  #initialised = false;
  #closed = false;

  constructor(
    protected readonly io: SysfsIo,
    protected readonly options: Options,
  ) {}

  /** "ds18b20 28-0316a2791f2a", the prefix of every message about this sensor. */
  protected abstract get label(): string;

  /** Finds the device in sysfs; rejects when it cannot. */
  protected abstract initialise(): Promise<void>;

  protected abstract measure(): Promise<SensorReading>;

  async open(): Promise<this> {
    this.#initialised = false;
    try {
      await this.initialise();
    } catch (err) {
      throw kernelSensorError(err, this.label);
    }
    this.#initialised = true;
    return this;
  }

  async read(): Promise<SensorReading> {
    if (this.#closed) throw new Error(`${this.label} is closed`);
    try {
      if (!this.#initialised) {
        await this.initialise();
        this.#initialised = true;
      }
      return await this.measure();
    } catch (err) {
      this.#initialised = false;
      throw kernelSensorError(err, this.label);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
