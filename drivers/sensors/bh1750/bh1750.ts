// Driver for the ROHM BH1750 ambient light sensor: one-time measurements (the chip powers down
// after each), waited for the datasheet maximum, then the 2-byte result read twice. The chip has
// no status bit and no CRC; after a one-time conversion its data register holds still, so two
// different reads mean corruption on the wire (SensorError BAD_DATA) rather than a value.
import type { I2cBus } from "../../i2c/types.ts";
import { SensorError, type Sensor, type SensorReading } from "../types.ts";
import { checkAddressFor, checkKnownOptions, hex, oneOf, Reinitialiser, round, sleep, toSensorError } from "../common.ts";
import { BH1750_MAX_MS, BH1750_MODES, BH1750_OPCODES as OP, countsToLux, decodeCounts, ONE_TIME_OPCODE, type Bh1750Mode } from "./bh1750Decode.ts";

export const BH1750_ADDRESSES = Object.freeze([0x23, 0x5c]);

export interface Bh1750Options {
  mode: Bh1750Mode;
}

export function parseBh1750Options(options: Record<string, unknown> = {}): Bh1750Options {
  checkKnownOptions("bh1750", options, ["mode"]);
  return { mode: oneOf("bh1750", "mode", options.mode, BH1750_MODES, "high") };
}

export function openBh1750(bus: I2cBus, address: number, options?: Record<string, unknown>): Promise<Sensor> {
  checkAddressFor("bh1750", address, BH1750_ADDRESSES);
  const sensor = new Bh1750Sensor(bus, address, parseBh1750Options(options));
  return sensor.open().then(() => sensor);
}

class Bh1750Sensor implements Sensor {
  readonly chip = "bh1750";
  readonly units = { lux: "lx" };
  readonly #bus: I2cBus;
  readonly #opts: Bh1750Options;
  readonly #reinit: Reinitialiser;
  #closed = false;

  constructor(
    bus: I2cBus,
    readonly address: number,
    opts: Bh1750Options,
  ) {
    this.#bus = bus;
    this.#opts = opts;
    this.#reinit = new Reinitialiser(() => this.#initialise());
  }

  async open(): Promise<void> {
    try {
      await this.#reinit.initNow();
    } catch (err) {
      throw toSensorError(err, this.chip, this.address);
    }
  }

  async read(): Promise<SensorReading> {
    if (this.#closed) throw new Error(`bh1750 at ${hex(this.address)} is closed`);
    try {
      return await this.#reinit.run(() => this.#measure());
    } catch (err) {
      throw toSensorError(err, this.chip, this.address);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#bus.sendByte(this.address, OP.POWER_DOWN).catch(() => undefined);
  }

  /** Power on, clear the data register (reset only works when powered on), power down. */
  async #initialise(): Promise<void> {
    await this.#bus.sendByte(this.address, OP.POWER_ON);
    await this.#bus.sendByte(this.address, OP.RESET);
    await this.#bus.sendByte(this.address, OP.POWER_DOWN);
  }

  async #measure(): Promise<SensorReading> {
    const a = this.address;
    const mode = this.#opts.mode;
    await this.#bus.sendByte(a, OP.POWER_ON);
    await this.#bus.sendByte(a, ONE_TIME_OPCODE[mode]);
    await sleep(BH1750_MAX_MS[mode]);
    const first = Buffer.alloc(2);
    const second = Buffer.alloc(2);
    await this.#bus.i2cRead(a, 2, first);
    await this.#bus.i2cRead(a, 2, second);
    const ts = Date.now();
    if (!first.equals(second)) throw new SensorError("BAD_DATA", `bh1750 at ${hex(a)} returned inconsistent data`);
    return { values: { lux: round(countsToLux(decodeCounts(first), mode), 1) }, ts };
  }
}
