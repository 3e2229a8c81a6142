// The lifecycle every I2C sensor driver shares, so each driver only says how its chip is set up
// (`initialise`) and how one measurement is taken (`measure`):
//   - open runs the set-up once, eagerly, so a missing or wrong chip is reported at start;
//   - read re-runs the set-up first whenever the previous read failed: a chip that was unplugged
//     or power-cycled comes back with reset registers, so it must be configured (and, for Bosch,
//     its calibration re-read) before its data can be trusted;
//   - every failure leaves as a SensorError (bus NACK -> ABSENT, other bus errors -> IO);
//   - read after close is a programmer error with an exact message.
import type { I2cBus } from "../i2c/types.ts";
import { SensorError, type Sensor, type SensorReading } from "./types.ts";
import { hex, toSensorError } from "./common.ts";

export abstract class I2cSensorBase<Options> implements Sensor {
  abstract readonly chip: string;
  abstract readonly units: Record<string, string>;
  #initialised = false;
  #closed = false;

  constructor(
    protected readonly bus: I2cBus,
    readonly address: number,
    protected readonly options: Options,
  ) {}

  /** Checks and configures the chip (chip id, reset, calibration); rejects when it cannot. */
  protected abstract initialise(): Promise<void>;

  /** Takes one measurement from an initialised chip. */
  protected abstract measure(): Promise<SensorReading>;

  /** Puts the chip in its lowest-power state on close; chips that sleep by themselves need nothing. */
  protected async powerDown(): Promise<void> {}

  /** "bme280 at 0x76", the prefix of every message about this sensor. */
  protected get label(): string {
    return `${this.chip} at ${hex(this.address)}`;
  }

  /** Initialises the chip now; resolves with the sensor, or rejects with a SensorError. */
  async open(): Promise<this> {
    this.#initialised = false;
    try {
      await this.initialise();
    } catch (err) {
      throw toSensorError(err, this.chip, this.address);
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
      throw toSensorError(err, this.chip, this.address);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A chip that is gone cannot be put to sleep; closing must still succeed.
    await this.powerDown().catch(() => undefined);
  }

  /**
   * Reads the same data twice with `readInto` and returns it when both agree. Used for chips
   * without a CRC whose data registers hold still after a one-shot conversion, so any difference
   * is corruption on the wire (SensorError BAD_DATA) rather than a value.
   */
  protected async readConsistent(
    length: number,
    readInto: (buffer: Buffer) => Promise<unknown>,
    what = "data",
  ): Promise<Buffer> {
    const first = Buffer.alloc(length);
    const second = Buffer.alloc(length);
    await readInto(first);
    await readInto(second);
    if (!first.equals(second)) throw new SensorError("BAD_DATA", `${this.label} returned inconsistent ${what}`);
    return first;
  }
}
