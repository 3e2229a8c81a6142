// Driver for the ROHM BH1750 ambient light sensor: one-time measurements (the chip powers down
// after each), waited for the datasheet maximum, then the 2-byte result read twice. The chip has
// no status bit and no CRC; after a one-time conversion its data register holds still, so two
// different reads mean corruption on the wire (SensorError BAD_DATA) rather than a value.
import type { I2cBus } from "../../i2c/types.ts";
import type { Sensor, SensorReading } from "../types.ts";
import { checkAddressFor, checkKnownOptions, oneOf, round, sleep } from "../common.ts";
import { I2cSensorBase } from "../sensorBase.ts";
import {
  BH1750_MAX_MS,
  BH1750_MODES,
  BH1750_OPCODES as OP,
  countsToLux,
  decodeCounts,
  ONE_TIME_OPCODE,
  type Bh1750Mode,
} from "./bh1750Decode.ts";

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
  return new Bh1750Sensor(bus, address, parseBh1750Options(options)).open();
}

class Bh1750Sensor extends I2cSensorBase<Bh1750Options> {
  readonly chip = "bh1750";
  readonly units = { lux: "lx" };

  /** Power on, clear the data register (reset only works when powered on), power down. */
  protected async initialise(): Promise<void> {
    await this.bus.sendByte(this.address, OP.POWER_ON);
    await this.bus.sendByte(this.address, OP.RESET);
    await this.bus.sendByte(this.address, OP.POWER_DOWN);
  }

  protected async measure(): Promise<SensorReading> {
    const a = this.address;
    const mode = this.options.mode;
    await this.bus.sendByte(a, OP.POWER_ON);
    await this.bus.sendByte(a, ONE_TIME_OPCODE[mode]);
    await sleep(BH1750_MAX_MS[mode]);
    const data = await this.readConsistent(2, (buffer) => this.bus.i2cRead(a, 2, buffer));
    return { values: { lux: round(countsToLux(decodeCounts(data), mode), 1) }, ts: Date.now() };
  }

  protected override async powerDown(): Promise<void> {
    await this.bus.sendByte(this.address, OP.POWER_DOWN);
  }
}
