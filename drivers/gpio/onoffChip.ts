// The real GPIO chip: a thin adapter on npm `onoff` (sysfs /sys/class/gpio), and the only file that
// loads it. onoff is an optionalDependency with a native part (epoll), so it is loaded with a
// dynamic import and the app still runs, on the sim, where it is missing or failed to build.
// What this adapter adds on top of onoff:
//  - BCM -> sysfs numbers through the base found in sysfsMap.ts (kernel 6.6+ offsets, onoff#199);
//  - outputs opened with direction "high"/"low", which the kernel applies as the raw line level in
//    the same write (gpiolib-sysfs direction_store), so an active-low relay never clicks on at start;
//  - watch() through EdgeReporter, shared with the sim: the kernel edge is "both" so we know every
//    settled level, and the user's edge filter and duplicate suppression are applied here;
//  - the debounce, here and not in onoff: onoff's (lodash.debounce) cannot be cancelled, so a pin
//    closed within debounceMs of an edge had onoff read its closed value fd when the timer fired
//    (EBADF thrown from a timer: an uncaught exception), found by the GPIO contract suite on a
//    real kernel in the virtual Pi (scripts/vm/guest/gpioContract.ts).
import { silentDriverLog, type DriverLog } from "../log.ts";
import { EdgeReporter } from "./edgeReporter.ts";
import { findBcmMapping, bcmToSysfs, type BcmMapping } from "./sysfsMap.ts";
import type {
  BinaryValue,
  Direction,
  GpioChip,
  GpioChipInfo,
  GpioPin,
  GpioPinOptions,
  WatchCallback,
} from "./types.ts";
import { checkValue, resolvePinOptions, type ResolvedPinOptions } from "./validate.ts";

type OnoffCallback = (err: Error | null | undefined, value: number) => void;

/** The part of onoff's Gpio we use (onoff.d.ts), kept here so type-checking never needs onoff. */
export interface OnoffGpio {
  readSync(): number;
  read(): Promise<number>;
  write(value: BinaryValue): Promise<void>;
  watch(cb: OnoffCallback): void;
  unwatch(cb?: OnoffCallback): void;
  unexport(): void;
}

export interface OnoffGpioConstructor {
  new (
    gpio: number,
    direction: "in" | "high" | "low",
    edge?: "none" | "both",
    options?: { activeLow?: boolean; debounceTimeout?: number; reconfigureDirection?: boolean },
  ): OnoffGpio;
  readonly accessible: boolean;
}

export type OnoffLoadResult = { ok: true; Gpio: OnoffGpioConstructor } | { ok: false; reason: string };

/** Loads onoff if it is installed and its native epoll binding loads on this machine. */
export async function loadOnoff(): Promise<OnoffLoadResult> {
  const specifier = "onoff"; // a variable, so TypeScript does not resolve (and require) the package
  let mod: unknown;
  try {
    mod = await import(specifier);
  } catch (err) {
    return {
      ok: false,
      reason: `cannot load onoff: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
    };
  }
  const m = mod as { Gpio?: unknown; default?: { Gpio?: unknown } };
  const Gpio = m.Gpio ?? m.default?.Gpio;
  if (typeof Gpio !== "function") return { ok: false, reason: "onoff loaded but has no Gpio class" };
  return { ok: true, Gpio: Gpio as OnoffGpioConstructor };
}

/** Turns onoff's raw errno errors into something a user can act on. */
export function explainOpenError(pin: number, sysfs: number, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    code === "EINVAL"
      ? "the kernel rejected the number; the GPIO base may be wrong (kernel 6.6+ numbering, see onoff#199)"
      : code === "EBUSY"
        ? "the pin is claimed by a kernel driver (1-wire, I2C, SPI, LED overlays) or another program"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied: run as root or add the service user to the gpio group"
          : code === "ENOENT"
            ? "the kernel exported the pin but its files never appeared (udev rules, or not a sysfs GPIO)"
            : err instanceof Error
              ? err.message
              : String(err);
  return new Error(`Cannot open GPIO ${pin} (sysfs ${sysfs}): ${hint}${code ? ` [${code}]` : ""}`, { cause: err });
}

const toBinary = (v: number): BinaryValue => (v === 1 ? 1 : 0);
const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

class OnoffPin implements GpioPin {
  readonly pin: number;
  readonly direction: Direction;
  readonly sysfs: number;
  readonly #gpio: OnoffGpio;
  readonly #reporter: EdgeReporter;
  readonly #release: () => void;
  readonly #log: DriverLog;
  readonly #debounceMs: number;
  #debounceTimer: ReturnType<typeof setTimeout> | undefined;
  #watching = false;
  #closed = false;

  constructor(opts: ResolvedPinOptions, sysfs: number, gpio: OnoffGpio, release: () => void, log: DriverLog) {
    this.pin = opts.pin;
    this.direction = opts.direction;
    this.sysfs = sysfs;
    this.#gpio = gpio;
    this.#release = release;
    this.#log = log;
    this.#debounceMs = opts.direction === "in" ? opts.debounceMs : 0;
    this.#reporter = new EdgeReporter(opts.edge, 0, (err) =>
      log.warn(`GPIO ${opts.pin} watch callback threw`, { error: reason(err) }),
    );
  }

  async read(): Promise<BinaryValue> {
    if (this.#closed) throw new Error(`GPIO ${this.pin} is closed`);
    try {
      return toBinary(await this.#gpio.read());
    } catch (err) {
      throw new Error(`Cannot read GPIO ${this.pin} (sysfs ${this.sysfs}): ${reason(err)}`, { cause: err });
    }
  }

  write(value: BinaryValue): Promise<void> {
    checkValue(value, this.pin);
    return this.#write(value);
  }

  async #write(value: BinaryValue): Promise<void> {
    if (this.#closed) throw new Error(`GPIO ${this.pin} is closed`);
    if (this.direction !== "out") throw new Error(`GPIO ${this.pin} is an input; write() drives outputs only`);
    try {
      await this.#gpio.write(value);
    } catch (err) {
      throw new Error(`Cannot write GPIO ${this.pin} (sysfs ${this.sysfs}): ${reason(err)}`, { cause: err });
    }
  }

  watch(cb: WatchCallback): () => void {
    if (typeof cb !== "function") throw new TypeError(`watch() on GPIO ${this.pin} needs a callback function`);
    if (this.#closed) throw new Error(`GPIO ${this.pin} is closed`);
    if (this.direction !== "in") throw new Error(`GPIO ${this.pin} is an output; watch() reports inputs only`);
    const remove = this.#reporter.add(cb);
    if (!this.#watching) {
      try {
        // Nothing was tracked while nobody watched: start from the level as it is now.
        this.#reporter.resync(toBinary(this.#gpio.readSync()));
        this.#gpio.watch(this.#onInterrupt);
        this.#watching = true;
      } catch (err) {
        remove();
        // onoff records the listener before epoll_ctl fails; drop it again, or unexport() would
        // later try to remove the fd from epoll, throw, and leave the pin exported. unwatch()
        // clears the list first and then fails the same way, which is expected here.
        try {
          this.#gpio.unwatch(this.#onInterrupt);
        } catch {
          /* see above */
        }
        // epoll refuses files that are not sysfs GPIO values (EPERM); on a Pi this means a broken
        // sysfs tree, so it is reported as the I/O error it is rather than as silence.
        throw new Error(`Cannot watch GPIO ${this.pin} (sysfs ${this.sysfs}): ${reason(err)}`, { cause: err });
      }
    }
    return () => {
      remove();
      if (this.#watching && this.#reporter.listenerCount === 0) this.#stopWatching();
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelDebounce();
    this.#reporter.clear();
    this.#watching = false;
    this.#release();
    try {
      this.#gpio.unexport(); // also stops onoff's epoll watch and closes the value fd
    } catch (err) {
      throw new Error(`Cannot release GPIO ${this.pin} (sysfs ${this.sysfs}): ${reason(err)}`, { cause: err });
    }
  }

  #onInterrupt: OnoffCallback = (err, value) => {
    if (this.#closed) return;
    if (err) {
      this.#log.warn(`GPIO ${this.pin} interrupt error`, { error: err.message });
      return;
    }
    if (this.#debounceMs === 0) {
      this.#reporter.settle(toBinary(value), Date.now());
      return;
    }
    // Trailing debounce, as onoff's lodash.debounce did: every edge restarts the quiet period and
    // the level is read once it has held for debounceMs.
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = setTimeout(() => {
      this.#debounceTimer = undefined;
      if (this.#closed) return;
      let level: number;
      try {
        level = this.#gpio.readSync();
      } catch (e) {
        this.#log.warn(`GPIO ${this.pin} read after debounce failed`, { error: reason(e) });
        return;
      }
      this.#reporter.settle(toBinary(level), Date.now());
    }, this.#debounceMs);
  };

  #cancelDebounce(): void {
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = undefined;
  }

  #stopWatching(): void {
    this.#cancelDebounce();
    this.#watching = false;
    try {
      this.#gpio.unwatch(this.#onInterrupt);
    } catch (err) {
      this.#log.warn(`GPIO ${this.pin} unwatch failed`, { error: reason(err) });
    }
  }
}

export class OnoffGpioChip implements GpioChip {
  readonly info: GpioChipInfo;
  readonly mapping: BcmMapping;
  readonly #Gpio: OnoffGpioConstructor;
  readonly #log: DriverLog;
  readonly #pins = new Map<number, OnoffPin>();
  #closed = false;

  constructor(Gpio: OnoffGpioConstructor, mapping: BcmMapping, log: DriverLog = silentDriverLog()) {
    this.#Gpio = Gpio;
    this.mapping = mapping;
    this.#log = log;
    this.info = { kind: "sysfs", label: mapping.label, base: mapping.base };
  }

  open(options: GpioPinOptions): Promise<GpioPin> {
    const opts = resolvePinOptions(options);
    return this.#open(opts);
  }

  async #open(opts: ResolvedPinOptions): Promise<GpioPin> {
    const { pin } = opts;
    if (this.#closed) throw new Error("GPIO chip is closed");
    if (this.#pins.has(pin)) throw new Error(`GPIO ${pin} is already open`);
    if (pin >= this.mapping.ngpio) {
      throw new Error(`Cannot open GPIO ${pin}: chip ${this.mapping.label} has only ${this.mapping.ngpio} lines`);
    }
    const sysfs = bcmToSysfs(pin, this.mapping.base);
    const electrical = opts.activeLow ? 1 - opts.initial : opts.initial;
    const direction = opts.direction === "in" ? "in" : electrical === 1 ? "high" : "low";
    let gpio: OnoffGpio;
    try {
      // Synchronous in onoff: export, wait for udev permissions, configure, open value.
      gpio = new this.#Gpio(
        sysfs,
        direction,
        opts.direction === "in" ? (opts.edge === "none" ? "none" : "both") : undefined,
        {
          activeLow: opts.activeLow,
          // Debounced in OnoffPin (cancellable on close), not by onoff.
          debounceTimeout: 0,
          reconfigureDirection: true,
        },
      );
    } catch (err) {
      throw explainOpenError(pin, sysfs, err);
    }
    const p = new OnoffPin(
      opts,
      sysfs,
      gpio,
      () => {
        if (this.#pins.get(pin) === p) this.#pins.delete(pin);
      },
      this.#log,
    );
    this.#pins.set(pin, p);
    this.#log.debug(() => `opened GPIO ${pin} as sysfs ${sysfs} (${direction}${opts.activeLow ? ", active-low" : ""})`);
    return p;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const results = await Promise.allSettled([...this.#pins.values()].map((p) => p.close()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) {
      throw new AggregateError(
        failed.map((f) => f.reason as unknown),
        `${failed.length} GPIO pin(s) failed to release`,
      );
    }
  }
}

/** Finds the header chip, loads onoff and checks that sysfs export is writable. */
export async function openOnoffChip(
  opts: { sysfsRoot?: string; base?: number; log?: DriverLog } = {},
): Promise<OnoffGpioChip> {
  const mapping = await findBcmMapping({ root: opts.sysfsRoot, base: opts.base });
  const loaded = await loadOnoff();
  if (!loaded.ok) throw new Error(`GPIO driver unavailable: ${loaded.reason}`);
  if (!loaded.Gpio.accessible) {
    throw new Error("Cannot write /sys/class/gpio/export: run as root or add the service user to the gpio group");
  }
  return new OnoffGpioChip(loaded.Gpio, mapping, opts.log);
}
