// Claiming from the field: holding a configured button for holdSec opens the claim window
// (v1/gateway/claim for every device with a claim section), so an installer can claim the unit's
// devices from the ThingsBoard UI without a keyboard on the Pi.
import type { GpioChip, GpioPin } from "../../drivers/gpio/types.ts";
import type { Logger } from "../util/logger.ts";
import type { Feature } from "./feature.ts";

export interface ClaimButtonOptions {
  pin: number;
  holdSec: number;
  activeLow: boolean;
  gpio: () => Promise<GpioChip>;
  startClaim: () => Promise<unknown>;
  log: Logger;
}

export class ClaimButton implements Feature {
  #o: ClaimButtonOptions;
  #pin: GpioPin | null = null;
  #unwatch: (() => void) | null = null;
  #hold: NodeJS.Timeout | null = null;

  constructor(o: ClaimButtonOptions) {
    this.#o = o;
  }

  async start(): Promise<void> {
    const chip = await this.#o.gpio();
    this.#pin = await chip.open({
      pin: this.#o.pin,
      direction: "in",
      edge: "both",
      activeLow: this.#o.activeLow,
      debounceMs: 50,
    });
    this.#unwatch = this.#pin.watch((value) => {
      if (value === 1) {
        if (this.#hold) return;
        this.#hold = setTimeout(() => {
          this.#hold = null;
          this.#o.log.info(`claim button held ${this.#o.holdSec} s: opening the claim window`);
          this.#o.startClaim().catch((err: Error) => this.#o.log.error(`claim failed: ${err.message}`));
        }, this.#o.holdSec * 1000);
      } else if (this.#hold) {
        clearTimeout(this.#hold);
        this.#hold = null;
      }
    });
  }

  async stop(): Promise<void> {
    if (this.#hold) clearTimeout(this.#hold);
    this.#hold = null;
    this.#unwatch?.();
    await this.#pin?.close().catch(() => {});
    this.#pin = null;
  }
}
