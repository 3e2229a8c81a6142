// safeStateAfterOfflineSec for devices with outputs (GPIO relays, PWM): once ThingsBoard has been
// unreachable that long, the outputs go to their safe state; coming back online in time cancels.
// One timer per device; `expire` runs at most once per offline period.

export class OfflineSafeTimer {
  readonly #afterSec: number;
  readonly #expire: (afterSec: number) => void;
  #timer: NodeJS.Timeout | null = null;

  /** afterSec 0 (or less): never. */
  constructor(afterSec: number, expire: (afterSec: number) => void) {
    this.#afterSec = afterSec;
    this.#expire = expire;
  }

  setOnline(online: boolean): void {
    if (online || this.#afterSec <= 0) {
      this.cancel();
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#expire(this.#afterSec);
    }, this.#afterSec * 1000);
    this.#timer.unref();
  }

  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
