// Counts messages dropped by the overflow policy and logs them at most once per interval, so a long
// outage that overflows the disk produces one warning a minute with totals instead of one per message.
import type { Logger } from "../util/logger.ts";

export const DROP_LOG_INTERVAL_MS = 60_000;

export class DropCounter {
  total = 0;
  #unlogged = 0;
  #reasons = new Set<string>();
  #lastLogAt = Number.NEGATIVE_INFINITY;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(log: Logger, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  add(n: number, reason: string): void {
    if (n <= 0) return;
    this.total += n;
    this.#unlogged += n;
    this.#reasons.add(reason);
    this.maybeLog();
  }

  /** Also called on every flush tick, so the last drops of a burst are reported once the interval has passed. */
  maybeLog(): void {
    if (this.#unlogged === 0) return;
    const now = this.#now();
    if (now - this.#lastLogAt < DROP_LOG_INTERVAL_MS) return;
    this.#lastLogAt = now;
    this.#log.warn(
      `outbox overflow (${[...this.#reasons].join(", ")}): dropped the ${this.#unlogged} oldest messages (${this.total} since start)`,
      { dropped: this.#unlogged, droppedTotal: this.total },
    );
    this.#unlogged = 0;
    this.#reasons.clear();
  }
}
