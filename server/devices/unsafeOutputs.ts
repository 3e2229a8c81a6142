// Outputs whose safe-state write failed (offline too long, or at shutdown): a relay, a fan or a
// heater left on is a hazard someone must see. Each failure is logged as an error and shown in the
// dashboard's event log; the device stays degraded until every such output is written again.
import type { DeviceContext } from "./deviceContext.ts";

export class UnsafeOutputs {
  readonly #pins = new Set<number>();
  readonly #ctx: DeviceContext;

  constructor(ctx: DeviceContext) {
    this.#ctx = ctx;
  }

  /** Records a failed safe-state write on `pin`; returns `text` for the device's error field. */
  failed(device: string, pin: number, text: string): string {
    this.#ctx.log.error(`${device}: ${text}`);
    this.#pins.add(pin);
    this.#ctx.bus.emit("eventLog", { ts: Date.now(), kind: "error", device, text, ok: false });
    return text;
  }

  /** `pin` was written: true when that cleared the last unsafe output. */
  written(pin: number): boolean {
    return this.#pins.delete(pin) && this.#pins.size === 0;
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
