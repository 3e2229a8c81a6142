// One pin of the simulated chip. It sees the electrical level the chip holds for its number and
// behaves like the sysfs pin onoff gives us: read() returns the raw (undebounced) logical level,
// watch() reports debounced, de-duplicated, edge-filtered logical values, write() drives outputs.
import type { DriverLog } from "../log.ts";
import { EdgeReporter } from "./edgeReporter.ts";
import type { BinaryValue, Direction, GpioPin, WatchCallback } from "./types.ts";
import { checkValue, type ResolvedPinOptions } from "./validate.ts";

/** What a pin needs from its chip: the wire it sits on. */
export interface SimWire {
  level(): BinaryValue;
  drive(level: BinaryValue): void;
  release(): void;
}

export class SimGpioPin implements GpioPin {
  readonly pin: number;
  readonly direction: Direction;
  readonly #opts: ResolvedPinOptions;
  readonly #wire: SimWire;
  readonly #reporter: EdgeReporter;
  #debounceTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(opts: ResolvedPinOptions, wire: SimWire, log: DriverLog) {
    this.pin = opts.pin;
    this.direction = opts.direction;
    this.#opts = opts;
    this.#wire = wire;
    const startLogical = this.#toLogical(wire.level());
    this.#reporter = new EdgeReporter(opts.edge, startLogical, (err) =>
      log.warn(`GPIO ${opts.pin} watch callback threw`, { error: err instanceof Error ? err.message : String(err) }),
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  read(): Promise<BinaryValue> {
    if (this.#closed) return Promise.reject(new Error(`GPIO ${this.pin} is closed`));
    return Promise.resolve(this.#toLogical(this.#wire.level()));
  }

  write(value: BinaryValue): Promise<void> {
    checkValue(value, this.pin);
    if (this.#closed) return Promise.reject(new Error(`GPIO ${this.pin} is closed`));
    if (this.direction !== "out") {
      return Promise.reject(new Error(`GPIO ${this.pin} is an input; write() drives outputs only`));
    }
    this.#wire.drive(this.#toElectrical(value));
    return Promise.resolve();
  }

  watch(cb: WatchCallback): () => void {
    if (typeof cb !== "function") throw new TypeError(`watch() on GPIO ${this.pin} needs a callback function`);
    if (this.#closed) throw new Error(`GPIO ${this.pin} is closed`);
    if (this.direction !== "in") throw new Error(`GPIO ${this.pin} is an output; watch() reports inputs only`);
    return this.#reporter.add(cb);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = undefined;
    this.#reporter.clear();
    this.#wire.release();
    return Promise.resolve();
  }

  /** Called by the chip whenever the electrical level on this pin's wire changes. */
  levelChanged(): void {
    if (this.#closed || this.direction !== "in") return;
    if (this.#opts.debounceMs === 0) {
      this.#reporter.settle(this.#toLogical(this.#wire.level()), Date.now());
      return;
    }
    // Trailing debounce, as onoff does with lodash.debounce: every edge restarts the quiet period
    // and the level is read once it has held for debounceMs.
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = setTimeout(() => {
      this.#debounceTimer = undefined;
      if (this.#closed) return;
      this.#reporter.settle(this.#toLogical(this.#wire.level()), Date.now());
    }, this.#opts.debounceMs);
  }

  /** Logical level to the level on the wire: active-low inverts. */
  #toElectrical(value: BinaryValue): BinaryValue {
    return this.#opts.activeLow ? (value === 1 ? 0 : 1) : value;
  }

  #toLogical(level: BinaryValue): BinaryValue {
    return this.#toElectrical(level);
  }
}
