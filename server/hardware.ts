// Chooses and owns the hardware: the real Pi (onoff, i2c-bus, /sys) or the simulated twins.
// In sim mode every configured sensor gets a register-level chip model attached on the
// simulated bus at its address, and every 1-Wire / IIO sensor a probe in the twins' fake sysfs
// tree (a temp dir), so a config written for the Pi runs unchanged in the demo.
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
import { DEFAULT_KERNEL_PATHS, openKernelSensor, type KernelSysfs } from "../drivers/sensors/kernelSensors.ts";
import { listDs18b20 } from "../drivers/sensors/ds18b20/ds18b20.ts";
import { listIioDht } from "../drivers/sensors/dht/dht.ts";
import { nodeSysfsIo } from "../drivers/sysfs/sysfsIo.ts";
import { SimSysfs } from "../drivers/sysfs/simSysfs.ts";
import { openSysfsPwm } from "../drivers/pwm/sysfsPwm.ts";
import { DEFAULT_PWM_CLASS } from "../drivers/pwm/pwmMap.ts";
import type { PwmController } from "../drivers/pwm/types.ts";
import { DEFAULT_ADDRESS, isI2cSensorChip, type Config, type SensorDeviceConfig } from "./config/schema.ts";
import type { I2cScanEntry } from "./events.ts";
import type { Logger } from "./util/logger.ts";

/** The sensor_scan gateway RPC's answer: 1-Wire probes and DHT IIO devices the kernel lists. */
export interface KernelSensorScan {
  w1: Array<{ romId: string; configured: boolean }>;
  dht: Array<{ device: string; name: string; pin: number | null; configured: boolean }>;
}

export class Hardware {
  readonly kind: "sim" | "pi";
  #log: Logger;
  #gpio: Promise<GpioChip> | null = null;
  #buses = new Map<number, Promise<I2cBus>>();
  /** Sim mode only: the simulated chips and buses, for the demo world and tests to drive. */
  readonly sim: {
    gpio: SimGpioChip;
    buses: Map<number, SimI2cBus>;
    models: Map<string, I2cDeviceModel>;
    sysfs: SimSysfs | null;
  } | null;
  #sysfs: Promise<KernelSysfs> | null = null;
  #pwm: Promise<PwmController> | null = null;
  #configured: Array<{ bus: number; address: number }> = [];
  /** Configured DS18B20 ROM ids and DHT pins, for the kernel sensor scan. */
  #kernelConfigured: { romIds: string[]; dhtPins: number[] } = { romIds: [], dhtPins: [] };

  private constructor(kind: "sim" | "pi", log: Logger) {
    this.kind = kind;
    this.#log = log;
    this.sim =
      kind === "sim" ? { gpio: new SimGpioChip({ log }), buses: new Map(), models: new Map(), sysfs: null } : null;
  }

  /**
   * "auto" means the Pi, found by its GPIO sysfs or I2C bus 1; it never falls back to the
   * simulation: simulated readings sent to ThingsBoard would pass for measurements (issue 18).
   * Simulation happens only when asked for (hardware: sim, or the demo).
   */
  static create(config: Config, log: Logger, probe: PiInterfaces = probePiInterfaces()): Hardware {
    let kind: "sim" | "pi";
    if (config.hardware === "auto") {
      if (!probe.gpioSysfs && !probe.i2cBus1) throw new HardwareUnavailableError();
      kind = "pi";
    } else kind = config.hardware;
    if (kind === "sim") log.warn("hardware: simulated (hardware: sim): every reading is made up, not measured");
    // A forced "pi" is what was asked for, not what was found (issue 13): opening the GPIO tells.
    else
      log.info(
        `hardware: Raspberry Pi${config.hardware === "auto" ? ` (found ${[probe.gpioSysfs && GPIO_SYSFS, probe.i2cBus1 && I2C_BUS_1].filter(Boolean).join(" and ")})` : " (hardware: pi as configured)"}`,
      );
    const hw = new Hardware(kind, log);
    hw.setConfigured(config.devices);
    return hw;
  }

  /** The sensors now configured (devices were added or removed from the dashboard): the scan marks them. */
  setConfigured(devices: Config["devices"]): void {
    // Only I2C sensors sit at a bus address; 1-Wire and DHT sensors are found by the kernel.
    this.#configured = devices.flatMap((d) =>
      d.kind === "sensor" && isI2cSensorChip(d.chip)
        ? [{ bus: d.bus, address: d.address ?? DEFAULT_ADDRESS[d.chip] }]
        : [],
    );
    const kernel = devices.flatMap((d) => (d.kind === "sensor" && !isI2cSensorChip(d.chip) ? [d] : []));
    this.#kernelConfigured = {
      romIds: kernel.flatMap((d) =>
        d.chip === "ds18b20" && typeof d.options.romId === "string" ? [d.options.romId.toLowerCase()] : [],
      ),
      dhtPins: kernel.flatMap((d) =>
        d.chip !== "ds18b20" ? [typeof d.options.pin === "number" ? d.options.pin : 4] : [],
      ),
    };
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

  /** The kernel's sysfs (w1, IIO, PWM): /sys on the Pi, the twins' temp-dir tree in sim mode. */
  sysfs(): Promise<KernelSysfs> {
    if (!this.#sysfs) {
      const sim = this.sim;
      this.#sysfs = sim
        ? SimSysfs.create().then((t) => {
            sim.sysfs = t;
            return t;
          })
        : Promise.resolve({ io: nodeSysfsIo, ...DEFAULT_KERNEL_PATHS });
    }
    return this.#sysfs;
  }

  /** The header's hardware PWM chip: found in /sys/class/pwm on the Pi, the twin's tree in sim mode. */
  pwm(): Promise<PwmController> {
    if (!this.#pwm) {
      this.#pwm = this.sim
        ? this.sysfs().then(() => openSysfsPwm(this.sim!.sysfs!.io, this.sim!.sysfs!.pwmClass))
        : openSysfsPwm(nodeSysfsIo, DEFAULT_PWM_CLASS);
      this.#pwm.then((c) => this.#log.info(`PWM: ${c.description}`)).catch(() => (this.#pwm = null));
    }
    return this.#pwm;
  }

  async openSensor(cfg: SensorDeviceConfig): Promise<Sensor> {
    const chip = cfg.chip;
    if (!isI2cSensorChip(chip)) {
      const sysfs = await this.sysfs();
      if (this.sim?.sysfs) await addSimKernelSensor(this.sim.sysfs, cfg);
      return openKernelSensor(chip, sysfs, cfg.options);
    }
    const address = cfg.address ?? DEFAULT_ADDRESS[chip];
    const bus = await this.bus(cfg.bus);
    if (this.sim) {
      const simBus = this.sim.buses.get(cfg.bus) as SimI2cBus;
      const key = `${cfg.bus}:${address}`;
      if (!this.sim.models.has(key)) {
        const model = createChipModel(chip, { options: cfg.options });
        simBus.attach(address, model);
        this.sim.models.set(key, model);
      }
    }
    return openSensor(chip, bus, address, cfg.options);
  }

  /** Scan every bus in use (and bus 1), naming the chips found. */
  async scan(): Promise<I2cScanEntry[]> {
    const buses = new Set<number>([1, ...this.#configured.map((c) => c.bus)]);
    const out: I2cScanEntry[] = [];
    for (const n of buses) {
      try {
        const bus = await this.bus(n);
        for (const f of await scanAndIdentify(bus)) {
          out.push({
            bus: n,
            address: f.address,
            chip: f.chip,
            configured: this.#configured.some((c) => c.bus === n && c.address === f.address),
          });
        }
      } catch (err) {
        this.#log.warn(`I2C scan of bus ${n} failed: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /**
   * What the kernel found that a config could name: DS18B20 probes under /sys/bus/w1/devices and
   * dht11 IIO devices (with the pin their overlay node names), each marked when configured.
   */
  async scanKernelSensors(): Promise<KernelSensorScan> {
    const sysfs = await this.sysfs();
    const probes = await listDs18b20(sysfs.io, sysfs.w1Devices);
    const dht = await listIioDht(sysfs.io, sysfs.iioDevices);
    const { romIds, dhtPins } = this.#kernelConfigured;
    return {
      w1: probes.map((romId) => ({ romId, configured: romIds.includes(romId) })),
      dht: dht.map((d) => ({
        device: d.device,
        name: d.name,
        pin: d.pin,
        configured: d.pin !== null && dhtPins.includes(d.pin),
      })),
    };
  }

  async close(): Promise<void> {
    const gpio = this.#gpio;
    this.#gpio = null;
    await gpio?.then((g) => g.close()).catch(() => {});
    for (const b of this.#buses.values()) await b.then((x) => x.close()).catch(() => {});
    this.#buses.clear();
    await this.sim?.sysfs?.remove().catch(() => {});
  }
}

/**
 * Puts the twin of a configured 1-Wire or DHT sensor into the fake sysfs tree, once: a DS18B20
 * with its configured ROM id (or one made from the device id), a DHT on its pin.
 */
async function addSimKernelSensor(sim: SimSysfs, cfg: SensorDeviceConfig): Promise<void> {
  if (cfg.chip === "ds18b20") {
    const romId = typeof cfg.options.romId === "string" ? cfg.options.romId.toLowerCase() : simRomId(cfg.id);
    if (!sim.w1.probes.includes(romId)) await sim.w1.addProbe(romId);
    return;
  }
  const pin = typeof cfg.options.pin === "number" ? cfg.options.pin : 4;
  const device = typeof cfg.options.iioDevice === "string" ? cfg.options.iioDevice : `iio:device${pin}`;
  if (!sim.iio.has(device))
    await sim.iio.addSensor(Number(device.slice("iio:device".length)), pin, cfg.chip === "dht11" ? "dht11" : "dht22");
}

/** A stable 48-bit serial for a simulated probe, from the device id. */
function simRomId(id: string): string {
  let h = 0x811c9dc5;
  for (const ch of id) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `28-00${(h >>> 0).toString(16).padStart(8, "0")}00`.slice(0, 15);
}

const GPIO_SYSFS = "/sys/class/gpio/export";
const I2C_BUS_1 = "/dev/i2c-1";

/** What "auto" looks for: the interfaces Raspberry Pi OS gives a Pi. */
export interface PiInterfaces {
  gpioSysfs: boolean;
  i2cBus1: boolean;
}

export function probePiInterfaces(): PiInterfaces {
  return { gpioSysfs: process.platform === "linux" && existsSync(GPIO_SYSFS), i2cBus1: realI2cBusAvailable(1) };
}

/** hardware: auto on a machine without the Pi's interfaces: refuse rather than simulate. */
export class HardwareUnavailableError extends Error {
  constructor() {
    super(
      [
        `hardware: auto found no Raspberry Pi interfaces here: no GPIO sysfs (${GPIO_SYSFS}) and no I2C bus 1 (${I2C_BUS_1}).`,
        "  On a Raspberry Pi: enable I2C (sudo raspi-config nonint do_i2c 0, or scripts/install.sh --enable-i2c) and reboot;",
        "  GPIO sysfs comes with Raspberry Pi OS kernels. Then set hardware: pi in the config.",
        "  To run without hardware on purpose, set hardware: sim (HARDWARE=sim): readings are then simulated, not measured.",
      ].join("\n"),
    );
    this.name = "HardwareUnavailableError";
  }
}
