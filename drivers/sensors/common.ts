// Helpers shared by the sensor drivers: option validation with exact messages, turning bus
// errors into SensorErrors, bounded waiting, rounding.
import { errorCode } from "../i2c/errors.ts";
import { SensorError } from "./types.ts";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rounds to `decimals` places without the 1.005 -> 1.00 binary surprise mattering at our scales. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, "0")}`;
}

/**
 * Maps a bus failure to a SensorError: a NACK (EREMOTEIO/ENXIO) means nothing answers at the
 * address, anything else is a plain I/O error. SensorErrors pass through unchanged.
 */
export function toSensorError(err: unknown, chip: string, address: number): SensorError {
  if (err instanceof SensorError) return err;
  const code = errorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (code === "EREMOTEIO" || code === "ENXIO")
    return new SensorError("ABSENT", `${chip} at ${hex(address)} does not answer (${detail})`);
  return new SensorError("IO", `${chip} at ${hex(address)}: ${detail}`);
}

/** Rejects option keys the driver does not know, so a typo in the YAML is not silently ignored. */
export function checkKnownOptions(chip: string, options: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new Error(
        `Unknown option "${key}" for ${chip}; expected one of: ${known.length ? known.join(", ") : "(none)"}`,
      );
    }
  }
}

/** Picks a value from a fixed list, with a default when absent. */
export function oneOf<T extends number | string>(
  chip: string,
  key: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new Error(
      `Invalid option ${key} for ${chip}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

export function checkAddressFor(chip: string, address: unknown, allowed: readonly number[]): asserts address is number {
  if (typeof address !== "number" || !allowed.includes(address)) {
    const list = allowed.map(hex).join(", ");
    throw new Error(
      `Invalid address ${typeof address === "number" ? hex(address) : JSON.stringify(address)} for ${chip}: expected one of ${list}`,
    );
  }
}

/** Polls `ready` until it returns true or the deadline passes (then SensorError TIMEOUT). */
export async function pollUntil(
  ready: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (performance.now() >= deadline)
      throw new SensorError("TIMEOUT", `${what} did not finish within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}
