// Argument checks shared by every GpioChip. Bad arguments are programmer errors, so they throw
// synchronously with exact messages (the i2c-bus `checkAddress` style), before any I/O starts.
import type { BinaryValue, Direction, Edge, GpioPinOptions } from "./types.ts";

/** Highest BCM number on the 40-pin header (GPIO 0-27); the config schema uses the same range. */
export const MAX_BCM_PIN = 27;
/** Longest debounce accepted: the config schema allows 10 s, anything longer is a typo. */
export const MAX_DEBOUNCE_MS = 10_000;

const DIRECTIONS: readonly Direction[] = ["in", "out"];
const EDGES: readonly Edge[] = ["none", "rising", "falling", "both"];

/** Options with every default filled in, as the adapters use them. */
export interface ResolvedPinOptions {
  pin: number;
  direction: Direction;
  edge: Edge;
  activeLow: boolean;
  debounceMs: number;
  initial: BinaryValue;
}

/** Shows a bad argument so strings stand out from numbers ("17" vs 17). */
export function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

export function checkPin(pin: unknown): number {
  if (typeof pin !== "number" || !Number.isInteger(pin) || pin < 0 || pin > MAX_BCM_PIN) {
    throw new RangeError(`Invalid GPIO pin ${show(pin)}: expected a BCM number 0-${MAX_BCM_PIN}`);
  }
  return pin;
}

export function checkValue(value: unknown, pin: number): BinaryValue {
  if (value !== 0 && value !== 1) throw new RangeError(`Invalid value ${show(value)} for GPIO ${pin}: expected 0 or 1`);
  return value;
}

/** Validates open() options and fills in defaults. Throws a RangeError/TypeError on misuse. */
export function resolvePinOptions(options: unknown): ResolvedPinOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Invalid GPIO options ${String(options)}: expected an object`);
  }
  const o = options as Partial<Record<keyof GpioPinOptions, unknown>>;
  const pin = checkPin(o.pin);
  const direction = o.direction;
  if (!DIRECTIONS.includes(direction as Direction)) {
    throw new RangeError(`Invalid direction ${show(direction)} for GPIO ${pin}: expected "in" or "out"`);
  }
  const edge = o.edge ?? "both";
  if (!EDGES.includes(edge as Edge)) {
    throw new RangeError(`Invalid edge ${show(edge)} for GPIO ${pin}: expected "none", "rising", "falling" or "both"`);
  }
  const activeLow = o.activeLow ?? false;
  if (typeof activeLow !== "boolean") {
    throw new TypeError(`Invalid activeLow ${show(activeLow)} for GPIO ${pin}: expected a boolean`);
  }
  const debounceMs = o.debounceMs ?? 0;
  if (
    typeof debounceMs !== "number" ||
    !Number.isInteger(debounceMs) ||
    debounceMs < 0 ||
    debounceMs > MAX_DEBOUNCE_MS
  ) {
    throw new RangeError(
      `Invalid debounceMs ${show(debounceMs)} for GPIO ${pin}: expected an integer 0-${MAX_DEBOUNCE_MS}`,
    );
  }
  const initial = o.initial ?? 0;
  if (initial !== 0 && initial !== 1) {
    throw new RangeError(`Invalid initial ${show(initial)} for GPIO ${pin}: expected 0 or 1`);
  }
  return { pin, direction: direction as Direction, edge: edge as Edge, activeLow, debounceMs, initial };
}
