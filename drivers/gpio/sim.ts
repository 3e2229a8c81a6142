// The simulated twin of the Pi's GPIO chip. The chip holds an electrical level for every BCM
// number, like wires on the header; pins opened on it behave as the sysfs pins do (see simPin.ts).
// Tests and the demo act as the outside world through setInput()/bounce() (a button, a contact
// that chatters) and look at what outputs drive through level() and the "change" listener.
// Timers are plain setTimeout and timestamps Date.now(), so node:test mock.timers drives it.
import { silentDriverLog, type DriverLog } from "../log.ts";
import { SimGpioPin } from "./simPin.ts";
import type { BinaryValue, GpioChip, GpioChipInfo, GpioPin, GpioPinOptions } from "./types.ts";
import { checkPin, checkValue, resolvePinOptions, type ResolvedPinOptions } from "./validate.ts";

export type SimChangeListener = (pin: number, level: BinaryValue) => void;

export interface BounceOptions {
  /** How many times the contact flips before it settles. */
  transitions: number;
  /** Time between flips, and between the last flip and the final level. */
  intervalMs: number;
}

const MAX_BOUNCE_TRANSITIONS = 1000;

export class SimGpioChip implements GpioChip {
  readonly info: GpioChipInfo = { kind: "sim", label: "sim", base: 0 };
  readonly #log: DriverLog;
  readonly #levels = new Map<number, BinaryValue>();
  readonly #pins = new Map<number, SimGpioPin>();
  readonly #changeListeners = new Set<SimChangeListener>();
  /** Bounces in flight, so close() can stop their timers and settle their promises. */
  readonly #bounces = new Set<() => void>();
  #closed = false;

  constructor(opts: { log?: DriverLog } = {}) {
    this.#log = opts.log ?? silentDriverLog();
  }

  open(options: GpioPinOptions): Promise<GpioPin> {
    const opts = resolvePinOptions(options);
    if (this.#closed) return Promise.reject(new Error("GPIO chip is closed"));
    if (this.#pins.has(opts.pin)) return Promise.reject(new Error(`GPIO ${opts.pin} is already open`));
    return Promise.resolve(this.#openPin(opts));
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const cancel of Array.from(this.#bounces)) cancel();
    await Promise.all([...this.#pins.values()].map((p) => p.close()));
  }

  /** Electrical level of any pin: what an output drives, or what the outside world applies. */
  level(pin: number): BinaryValue {
    return this.#levels.get(checkPin(pin)) ?? 0;
  }

  /** Applies an electrical level from outside, as a button or a sensor's open-drain line would. */
  setInput(pin: number, level: BinaryValue): void {
    checkPin(pin);
    checkValue(level, pin);
    this.#assertNotOutput(pin, "setInput");
    this.#setLevel(pin, level);
  }

  /**
   * Contact bounce: flips the level `transitions` times, `intervalMs` apart, then holds
   * `finalLevel` (applied `intervalMs` after the last flip). The first flip happens now.
   * Resolves once the final level is applied (or the chip is closed).
   */
  bounce(pin: number, finalLevel: BinaryValue, opts: BounceOptions): Promise<void> {
    checkPin(pin);
    checkValue(finalLevel, pin);
    const { transitions, intervalMs } = opts;
    if (!Number.isInteger(transitions) || transitions < 0 || transitions > MAX_BOUNCE_TRANSITIONS) {
      throw new RangeError(
        `Invalid transitions ${String(transitions)}: expected an integer 0-${MAX_BOUNCE_TRANSITIONS}`,
      );
    }
    if (typeof intervalMs !== "number" || !Number.isFinite(intervalMs) || intervalMs < 0) {
      throw new RangeError(`Invalid intervalMs ${String(intervalMs)}: expected a number >= 0`);
    }
    this.#assertNotOutput(pin, "bounce");
    return new Promise<void>((resolve) => {
      let left = transitions;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.#bounces.delete(finish);
        resolve();
      };
      const step = () => {
        if (left === 0) {
          this.#setLevel(pin, finalLevel);
          finish();
          return;
        }
        left -= 1;
        this.#setLevel(pin, this.level(pin) === 1 ? 0 : 1);
        timer = setTimeout(step, intervalMs);
      };
      this.#bounces.add(finish);
      step();
    });
  }

  /** Listens to every change of electrical level (outputs written, inputs applied). */
  on(event: "change", listener: SimChangeListener): this {
    if (event !== "change") throw new RangeError(`Unknown SimGpioChip event ${String(event)}`);
    this.#changeListeners.add(listener);
    return this;
  }

  off(event: "change", listener: SimChangeListener): this {
    if (event !== "change") throw new RangeError(`Unknown SimGpioChip event ${String(event)}`);
    this.#changeListeners.delete(listener);
    return this;
  }

  #openPin(opts: ResolvedPinOptions): SimGpioPin {
    const { pin } = opts;
    if (opts.direction === "out") {
      // Level and direction set in one step (sysfs "high"/"low"), so no glitch on open.
      this.#setLevel(pin, opts.activeLow ? (opts.initial === 1 ? 0 : 1) : opts.initial);
    }
    const simPin = new SimGpioPin(
      opts,
      {
        level: () => this.level(pin),
        drive: (level) => this.#setLevel(pin, level),
        release: () => {
          if (this.#pins.get(pin) === simPin) this.#pins.delete(pin);
        },
      },
      this.#log,
    );
    this.#pins.set(pin, simPin);
    return simPin;
  }

  #assertNotOutput(pin: number, what: string): void {
    if (this.#pins.get(pin)?.direction === "out") {
      throw new Error(`GPIO ${pin} is open as an output; ${what}() drives inputs only`);
    }
  }

  #setLevel(pin: number, level: BinaryValue): void {
    if (this.level(pin) === level) return;
    this.#levels.set(pin, level);
    this.#pins.get(pin)?.levelChanged();
    for (const listener of Array.from(this.#changeListeners)) {
      try {
        listener(pin, level);
      } catch (err) {
        this.#log.warn(`GPIO sim change listener threw`, {
          pin,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}
