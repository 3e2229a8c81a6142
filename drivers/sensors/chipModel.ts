// What every simulated sensor chip offers on top of the bare I2C device model: a physical
// environment the test or demo sets, from which the chip produces raw register values by
// inverting its datasheet conversion, so the real driver's decode reproduces it.
import { RegisterDeviceModel, type I2cDeviceModel } from "../i2c/deviceModel.ts";

export interface ChipEnvironment {
  /** °C */
  temperature: number;
  /** %RH */
  humidity: number;
  /** hPa */
  pressure: number;
  /** lx */
  lux: number;
  /** Volts on AIN0..AIN3 (ADS1115), index = channel. */
  volts: number[];
  /** A through the shunt (INA219), positive into IN+. */
  current: number;
  /** V on the load side of the shunt (INA219 IN-), against GND. */
  busVoltage: number;
}

export const DEFAULT_ENVIRONMENT: Readonly<ChipEnvironment> = Object.freeze({
  temperature: 21.5,
  humidity: 45,
  pressure: 1013.25,
  lux: 320,
  volts: Object.freeze([0.5, 1.25, 2.5, 3.3]) as number[],
  current: 0.25,
  busVoltage: 5,
});

export interface ChipModel extends I2cDeviceModel {
  readonly chip: string;
  /** Updates part of the environment; the next measurement reflects it. */
  set(env: Partial<ChipEnvironment>): void;
  readonly environment: Readonly<ChipEnvironment>;
  /** When on, a started measurement never finishes (a wedged chip); for TIMEOUT tests. */
  setStuck(on: boolean): void;
}

export interface ChipModelOptions {
  /** Millisecond clock used for measurement timing; default performance.now. */
  now?: () => number;
  /** Initial environment. */
  environment?: Partial<ChipEnvironment>;
  /** The device's driver options from the config, for parts the board wires (the INA219's shunt). */
  options?: Record<string, unknown>;
}

/**
 * What every chip model shares: the environment (validated on update), the stuck switch, the
 * measurement clock, and power-on reset. A model keeps everything a power-on reset restores in
 * `state`, built by `powerOnState()`, so the state after construction and after a reset (bus
 * attach, soft reset command) cannot drift apart.
 */
export abstract class ChipModelBase<State> implements ChipModel {
  abstract readonly chip: string;
  /** Millisecond clock for measurement timing. */
  protected readonly now: () => number;
  /** The chip's volatile registers and measurement progress. */
  protected state: State;
  readonly #env: ChipEnvironment;
  #stuck = false;

  constructor(options: ChipModelOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.#env = { ...DEFAULT_ENVIRONMENT, volts: [...DEFAULT_ENVIRONMENT.volts] };
    if (options.environment) this.set(options.environment);
    this.state = this.powerOnState();
  }

  /**
   * The state right after power-up. Called from the base constructor, before the subclass's own
   * fields exist, so it may use only `now` and constants.
   */
  protected abstract powerOnState(): State;

  abstract write(data: Uint8Array): void;
  abstract read(length: number): Uint8Array;

  powerOnReset(): void {
    this.state = this.powerOnState();
  }

  get environment(): Readonly<ChipEnvironment> {
    return this.#env;
  }

  set(env: Partial<ChipEnvironment>): void {
    for (const [key, value] of Object.entries(env)) {
      if (key === "volts") {
        if (!Array.isArray(value) || value.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
          throw new Error("Invalid environment volts: expected an array of finite numbers");
        }
        this.#env.volts = [...(value as number[])];
      } else if (key in DEFAULT_ENVIRONMENT) {
        if (typeof value !== "number" || !Number.isFinite(value))
          throw new Error(`Invalid environment ${key}: expected a finite number`);
        (this.#env as unknown as Record<string, number>)[key] = value;
      } else {
        throw new Error(`Unknown environment key "${key}"`);
      }
    }
  }

  setStuck(on: boolean): void {
    this.#stuck = on;
  }

  /** Whether a measurement due at `readyAt` has finished; a stuck chip never finishes one. */
  protected isDone(readyAt: number): boolean {
    return !this.#stuck && this.now() >= readyAt;
  }
}

/** What a read of `length` bytes returns: `data`, then 0xFF past its end (the bus idles high). */
export function busRead(data: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length).fill(0xff);
  out.set(data.subarray(0, Math.min(length, data.length)));
  return out;
}

/** A 16-bit register value as sent on the wire, most significant byte first. */
export function wordBE(value: number): Uint8Array {
  return Uint8Array.of((value >> 8) & 0xff, value & 0xff);
}

/**
 * The 8-bit pointer / auto-increment register protocol (RegisterDeviceModel) for a model that
 * already extends ChipModelBase: the model owns one and hands it its register accessors.
 */
export class RegisterFile extends RegisterDeviceModel {
  constructor(
    private readonly get: (reg: number) => number,
    private readonly put: (reg: number, value: number) => void,
  ) {
    super();
  }

  protected readRegister(reg: number): number {
    return this.get(reg);
  }

  protected writeRegister(reg: number, value: number): void {
    this.put(reg, value);
  }
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
