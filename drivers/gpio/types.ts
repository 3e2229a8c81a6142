// The GPIO interface app code sees. Pins are BCM numbers everywhere above drivers/;
// mapping to kernel sysfs numbers (offset on kernel 6.6+) happens inside the real adapter.

export type BinaryValue = 0 | 1;
export type Edge = "none" | "rising" | "falling" | "both";
export type Direction = "in" | "out";

export interface GpioPinOptions {
  /** BCM GPIO number, 0-27 on the 40-pin header. */
  pin: number;
  direction: Direction;
  /** Which edges to report to watch() (inputs). Default "both". */
  edge?: Edge;
  /** Invert the logical value (a pulled-up button reads 1 when pressed). */
  activeLow?: boolean;
  /** Input debounce: a level must be stable this long before it is reported. 0 = off. */
  debounceMs?: number;
  /**
   * Logical value (active-low applied) an output is driven to when opened; default 0 = "off".
   * Logical, so an active-low relay board opened with 0 stays released: the adapters set the
   * level in the same step as the direction, with no glitch through the other level.
   */
  initial?: BinaryValue;
}

export type WatchCallback = (value: BinaryValue, ts: number) => void;

export interface GpioPin {
  readonly pin: number;
  readonly direction: Direction;
  /** Logical value (active-low applied). */
  read(): Promise<BinaryValue>;
  /** Drive an output (logical value). Rejects for inputs. */
  write(value: BinaryValue): Promise<void>;
  /**
   * Report debounced edges of an input: each callback gets the new logical value once per settled
   * change (never the same value twice in a row), filtered by `edge`. Returns the function that
   * stops watching. Throws synchronously for outputs and closed pins (programmer errors).
   */
  watch(cb: WatchCallback): () => void;
  /** Release the pin (unexport). Idempotent. */
  close(): Promise<void>;
}

export interface GpioChipInfo {
  kind: "sim" | "sysfs";
  /** Kernel label of the chip used for BCM pins, e.g. pinctrl-bcm2711. */
  label: string;
  /** sysfs number of BCM 0 (0 on older kernels, 512+ on kernel 6.6+). */
  base: number;
}

export interface GpioChip {
  readonly info: GpioChipInfo;
  open(options: GpioPinOptions): Promise<GpioPin>;
  close(): Promise<void>;
}
