// Delivers outbox status to the dashboard and stats at most once per flush tick, and only when it changed,
// so a busy queue does not flood socket.io with identical frames.
import type { OutboxStatus } from "../events.ts";
import type { Logger } from "../util/logger.ts";

export class StatusNotifier {
  readonly #listeners = new Set<(s: OutboxStatus) => void>();
  readonly #log: Logger;
  #lastKey = "";

  constructor(log: Logger) {
    this.#log = log;
  }

  get wanted(): boolean {
    return this.#listeners.size > 0;
  }

  add(cb: (s: OutboxStatus) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Calls every listener if `s` differs from the last status delivered; a failing listener is logged, not fatal. */
  offer(s: OutboxStatus): void {
    const key = JSON.stringify(s);
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    for (const cb of this.#listeners) {
      try {
        cb(s);
      } catch (err) {
        this.#log.error(`outbox status listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
