// What every simulated sensor chip offers on top of the bare I2C device model: a physical
// environment the test or demo sets, from which the chip produces raw register values by
// inverting its datasheet conversion, so the real driver's decode reproduces it.
import type { I2cDeviceModel } from "../i2c/deviceModel.ts";

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
}

export const DEFAULT_ENVIRONMENT: Readonly<ChipEnvironment> = Object.freeze({
  temperature: 21.5,
  humidity: 45,
  pressure: 1013.25,
  lux: 320,
  volts: Object.freeze([0.5, 1.25, 2.5, 3.3]) as number[],
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
}

/** Keeps the environment and the measurement clock shared by all chip models. */
export class EnvironmentHolder {
  env: ChipEnvironment;
  stuck = false;
  readonly now: () => number;

  constructor(options: ChipModelOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.env = { ...DEFAULT_ENVIRONMENT, volts: [...DEFAULT_ENVIRONMENT.volts] };
    if (options.environment) this.set(options.environment);
  }

  set(env: Partial<ChipEnvironment>): void {
    for (const [key, value] of Object.entries(env)) {
      if (key === "volts") {
        if (!Array.isArray(value) || value.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
          throw new Error("Invalid environment volts: expected an array of finite numbers");
        }
        this.env.volts = [...(value as number[])];
      } else if (key in DEFAULT_ENVIRONMENT) {
        if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`Invalid environment ${key}: expected a finite number`);
        (this.env as unknown as Record<string, number>)[key] = value;
      } else {
        throw new Error(`Unknown environment key "${key}"`);
      }
    }
  }
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
