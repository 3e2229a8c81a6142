// Driver for the DS18B20 1-Wire temperature probe through the kernel's w1-gpio + w1_therm
// (dtoverlay=w1-gpio): probes appear as /sys/bus/w1/devices/28-<serial>. It reads the
// `temperature` attribute (m°C) where the kernel has it, else parses `w1_slave` with its CRC
// verdict line (older kernels). A failed CRC (EIO from `temperature`, "NO" in w1_slave), the
// 85.000 °C power-on value and an all-ones scratchpad (nobody answered) are errors, never
// readings; each is retried once within the read, since on a long cable one bad transfer is
// common and the next conversion is usually good. Several probes share one pin: each device
// names its probe by ROM id, and a single probe on the bus is found without one.
import { join } from "node:path";
import { errnoOf, type SysfsIo } from "../../sysfs/sysfsIo.ts";
import { checkKnownOptions } from "../common.ts";
import { KernelSensorBase, kernelSensorError } from "../kernelSensorBase.ts";
import { SensorError, type Sensor, type SensorReading } from "../types.ts";
import { checkMillidegrees, parseW1Slave, ROM_ID, scratchpadLooksValid } from "./ds18b20Decode.ts";

export const DEFAULT_W1_DEVICES = "/sys/bus/w1/devices";
const ATTEMPTS = 2;

export interface Ds18b20Options {
  /** "28-0316a2791f2a"; undefined: the only DS18B20 on the bus. */
  romId: string | undefined;
}

export function parseDs18b20Options(options: Record<string, unknown> = {}): Ds18b20Options {
  checkKnownOptions("ds18b20", options, ["romId"]);
  const romId = options.romId;
  if (romId !== undefined && (typeof romId !== "string" || !ROM_ID.test(romId.toLowerCase()))) {
    throw new Error(
      `Invalid option romId for ds18b20: expected "28-" and 12 hex digits as under /sys/bus/w1/devices, got ${JSON.stringify(romId)}`,
    );
  }
  return { romId: romId?.toLowerCase() };
}

/** Lists the DS18B20 probes the kernel found (sorted), [] when 1-Wire is not enabled. */
export async function listDs18b20(io: SysfsIo, root = DEFAULT_W1_DEVICES): Promise<string[]> {
  try {
    return (await io.readdir(root)).filter((n) => ROM_ID.test(n)).sort();
  } catch (err) {
    if (errnoOf(err) === "ENOENT") return [];
    throw err;
  }
}

export function openDs18b20(
  io: SysfsIo,
  options?: Record<string, unknown>,
  root = DEFAULT_W1_DEVICES,
): Promise<Sensor> {
  return new Ds18b20Sensor(io, parseDs18b20Options(options), root).open();
}

class Ds18b20Sensor extends KernelSensorBase<Ds18b20Options> {
  readonly chip = "ds18b20";
  readonly units = { temperature: "°C" };
  readonly #root: string;
  #romId: string | undefined;
  /** Whether this kernel has the `temperature` attribute (5.10+); learnt at the first read. */
  #hasTemperature: boolean | null = null;

  constructor(io: SysfsIo, options: Ds18b20Options, root: string) {
    super(io, options);
    this.#root = root;
    this.#romId = options.romId;
  }

  get serialNumber(): string | undefined {
    return this.#romId;
  }

  protected get label(): string {
    return `ds18b20 ${this.#romId ?? "(any)"}`;
  }

  protected async initialise(): Promise<void> {
    const found = await listDs18b20(this.io, this.#root);
    const wanted = this.options.romId;
    if (wanted) {
      if (!found.includes(wanted)) {
        throw new SensorError(
          "ABSENT",
          `ds18b20 ${wanted} is not on the 1-Wire bus (found: ${found.join(", ") || "none"})`,
        );
      }
      return;
    }
    if (found.length === 0)
      throw new SensorError(
        "ABSENT",
        `no DS18B20 under ${this.#root}: is dtoverlay=w1-gpio set and the probe wired with its pull-up?`,
      );
    if (found.length > 1)
      throw new SensorError(
        "IO",
        `several DS18B20 probes on the bus (${found.join(", ")}): give each device its options.romId`,
      );
    this.#romId = found[0];
  }

  protected async measure(): Promise<SensorReading> {
    let last: SensorError | null = null;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        const celsius = checkMillidegrees(await this.#readMillidegrees(), this.label);
        return { values: { temperature: Math.round(celsius * 1000) / 1000 }, ts: Date.now() };
      } catch (err) {
        last = kernelSensorError(err, this.label);
        if (last.code !== "CRC" && last.code !== "BAD_DATA") throw last;
      }
    }
    throw last!;
  }

  async #readMillidegrees(): Promise<number> {
    const dir = join(this.#root, this.#romId!);
    if (this.#hasTemperature !== false) {
      try {
        const text = (await this.io.readFile(join(dir, "temperature"))).trim();
        this.#hasTemperature = true;
        if (!/^-?\d+$/.test(text))
          throw new SensorError("BAD_DATA", `${this.label}: temperature reads ${JSON.stringify(text.slice(0, 40))}`);
        return Number(text);
      } catch (err) {
        const code = errnoOf(err);
        // w1_therm's temperature_show answers -EIO when the scratchpad fails its CRC check.
        if (code === "EIO") throw new SensorError("CRC", `${this.label}: the kernel reports a failed CRC check (EIO)`);
        if (code !== "ENOENT" || this.#hasTemperature === true) throw err;
        // No `temperature` attribute, or no probe at all: w1_slave will tell which.
      }
    }
    const reading = parseW1Slave(await this.io.readFile(join(dir, "w1_slave")));
    this.#hasTemperature = false;
    if (reading.scratchpad.every((b) => b === 0xff))
      throw new SensorError("ABSENT", `${this.label} does not answer (scratchpad all 0xff)`);
    if (!reading.crcOk) throw new SensorError("CRC", `${this.label}: scratchpad failed the CRC check (crc ... NO)`);
    // All zeros passes the CRC (CRC of zeros is 0) and prints t=0: a data line held low. The
    // configuration register always has its five low bits set, so it tells the two apart.
    if (!scratchpadLooksValid(reading.scratchpad))
      throw new SensorError(
        "BAD_DATA",
        `${this.label}: scratchpad ${[...reading.scratchpad].map((b) => b.toString(16).padStart(2, "0")).join(" ")} is not a DS18B20's (data line shorted?)`,
      );
    return reading.millidegrees;
  }
}
