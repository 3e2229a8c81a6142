// Chooses and owns the hardware: the real Pi (onoff, i2c-bus) or the simulated twins.
// In sim mode every configured sensor gets a register-level chip model attached on the
// simulated bus at its address, so a config written for the Pi runs unchanged in the demo.
import { existsSync } from "node:fs";
import { openGpioChip } from "../drivers/gpio/index.ts";
import type { GpioChip } from "../drivers/gpio/types.ts";
import { SimGpioChip } from "../drivers/gpio/sim.ts";
import type { I2cBus } from "../drivers/i2c/types.ts";
import { SimI2cBus } from "../drivers/i2c/simBus.ts";
import { ResilientI2cBus } from "../drivers/i2c/resilientBus.ts";
import { openRealI2cBus, realI2cBusAvailable } from "../drivers/i2c/realBus.ts";
import { scanAndIdentify } from "../drivers/i2c/scan.ts";
import { createChipModel, openSensor } from "../drivers/sensors/index.ts";
import type { Sensor } from "../drivers/sensors/types.ts";
import type { I2cDeviceModel } from "../drivers/i2c/deviceModel.ts";
import { DEFAULT_ADDRESS, type Config, type SensorDeviceConfig } from "./config/schema.ts";
import type { I2cScanEntry } from "./events.ts";
import type { Logger } from "./util/logger.ts";

export class Hardware {
  readonly kind: "sim" | "pi";
  #log: Logger;
  #gpio: Promise<GpioChip> | null = null;
  #buses = new Map<number, Promise<I2cBus>>();
  /** Sim mode only: the simulated chips and buses, for the demo world and tests to drive. */
  readonly sim: { gpio: SimGpioChip; buses: Map<number, SimI2cBus>; models: Map<string, I2cDeviceModel> } | null;
  #configured: Array<{ bus: number; address: number }> = [];

  private constructor(kind: "sim" | "pi", log: Logger) {
    this.kind = kind;
    this.#log = log;
    this.sim = kind === "sim" ? { gpio: new SimGpioChip({ log }), buses: new Map(), models: new Map() } : null;
  }

  /** "auto" picks the Pi when GPIO sysfs or an I2C bus device exists. */
  static create(config: Config, log: Logger): Hardware {
    let kind: "sim" | "pi";
    if (config.hardware === "auto") kind = realI2cBusAvailable(1) || hasSysfsGpio() ? "pi" : "sim";
    else kind = config.hardware;
    log.info(`hardware: ${kind === "sim" ? "simulated (no Pi GPIO/I2C found or HARDWARE=sim)" : "Raspberry Pi"}`);
    const hw = new Hardware(kind, log);
    for (const d of config.devices) if (d.kind === "sensor") hw.#configured.push({ bus: d.bus, address: d.address ?? DEFAULT_ADDRESS[d.chip] });
    return hw;
  }

  gpio(): Promise<GpioChip> {
    if (!this.#gpio) this.#gpio = this.sim ? Promise.resolve(this.sim.gpio) : openGpioChip("pi", { log: this.#log });
    return this.#gpio;
  }

  bus(n: number): Promise<I2cBus> {
    let b = this.#buses.get(n);
    if (!b) {
      if (this.sim) {
        const sim = new SimI2cBus({ busNumber: n });
        this.sim.buses.set(n, sim);
        b = Promise.resolve(new ResilientI2cBus(sim));
      } else b = openRealI2cBus(n).then((real) => new ResilientI2cBus(real));
      // A failed open is not cached: the sensor retry loop will try again.
      b.catch(() => this.#buses.delete(n));
      this.#buses.set(n, b);
    }
    return b;
  }

  async openSensor(cfg: SensorDeviceConfig): Promise<Sensor> {
    const address = cfg.address ?? DEFAULT_ADDRESS[cfg.chip];
    const bus = await this.bus(cfg.bus);
    if (this.sim) {
      const simBus = this.sim.buses.get(cfg.bus) as SimI2cBus;
      const key = `${cfg.bus}:${address}`;
      if (!this.sim.models.has(key)) {
        const model = createChipModel(cfg.chip);
        simBus.attach(address, model);
        this.sim.models.set(key, model);
      }
    }
    return openSensor(cfg.chip, bus, address, cfg.options);
  }

  /** Scan every bus in use (and bus 1), naming the chips found. */
  async scan(): Promise<I2cScanEntry[]> {
    const buses = new Set<number>([1, ...this.#configured.map((c) => c.bus)]);
    const out: I2cScanEntry[] = [];
    for (const n of buses) {
      try {
        const bus = await this.bus(n);
        for (const f of await scanAndIdentify(bus)) {
          out.push({ bus: n, address: f.address, chip: f.chip, configured: this.#configured.some((c) => c.bus === n && c.address === f.address) });
        }
      } catch (err) {
        this.#log.warn(`I2C scan of bus ${n} failed: ${(err as Error).message}`);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    const gpio = this.#gpio;
    this.#gpio = null;
    await gpio?.then((g) => g.close()).catch(() => {});
    for (const b of this.#buses.values()) await b.then((x) => x.close()).catch(() => {});
    this.#buses.clear();
  }
}

function hasSysfsGpio(): boolean {
  return process.platform === "linux" && existsSync("/sys/class/gpio/export");
}
