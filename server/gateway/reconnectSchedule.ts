// When TbConnection tries again: exponential backoff with jitter from reconnectMinMs up to reconnectMaxMs, reset
// only after a stable session, and the single pending retry timer. The connection decides *whether* to retry;
// this file only decides *when*, so there is never more than one retry in the air.

/** A connection must stay up this long before the backoff resets (avoids hammering a flapping server). */
const STABLE_MS = 10_000;

export interface ReconnectScheduleOptions {
  minMs: number;
  maxMs: number;
  random?: (() => number) | undefined;
  /** Runs when a scheduled retry is due; the timer is already cleared by then. */
  onDue: () => void;
}

export class ReconnectSchedule {
  readonly #o: ReconnectScheduleOptions;
  #attempt = 0;
  #connectedAt = 0;
  #timer: NodeJS.Timeout | null = null;
  /** When the latest scheduled retry fires; shown in the status while backing off. */
  nextRetryAt: number | undefined;

  constructor(o: ReconnectScheduleOptions) {
    this.#o = o;
  }

  /** Whether a retry timer is pending (the watchdog reschedules when none is). */
  get pending(): boolean {
    return this.#timer !== null;
  }

  /** The delay before the next attempt; each call counts as one more failed attempt. */
  nextDelay(): number {
    const { minMs: min, maxMs: max } = this.#o;
    const base = Math.min(max, min * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    const r = (this.#o.random ?? Math.random)();
    return Math.round(base / 2 + (base / 2) * r); // "equal jitter": never less than half the step
  }

  /** Back to the shortest step (new credentials). */
  reset(): void {
    this.#attempt = 0;
  }

  /** A session is up (CONNACK and subscriptions done). */
  connected(): void {
    this.#connectedAt = Date.now();
  }

  /** A session that was up ended: only one that lasted resets the backoff. */
  sessionEnded(): void {
    if (Date.now() - this.#connectedAt >= STABLE_MS) this.#attempt = 0;
  }

  schedule(delay: number): void {
    this.clear();
    this.nextRetryAt = Date.now() + delay;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#o.onDue();
    }, delay);
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
