// Attempts per queued message (issue 12), for the messages ThingsBoard answers by closing the
// connection. A lost connection fails every publish in flight, so the first failure only makes a
// message a suspect: a suspect is then sent alone, with nothing else in flight and not merged with
// other messages, and only failures while alone count on. A suspect that goes through is cleared.
// After MAX_ATTEMPTS the sender sets it aside as a dead letter (outbox/deadLetters.ts).

export const MAX_ATTEMPTS = 3;

export class DeliveryAttempts {
  /** seq -> failed attempts (1 = suspect). Bounded by the sender's window per connection loss. */
  readonly #failed = new Map<number, number>();

  isSuspect(seq: number): boolean {
    return this.#failed.has(seq);
  }

  get suspects(): number {
    return this.#failed.size;
  }

  /** A publish of these seqs failed with the connection (no reason code); `alone` if nothing else was in flight.
   *  Returns the seqs that have now failed MAX_ATTEMPTS times. */
  failed(seqs: readonly number[], alone: boolean): number[] {
    const dead: number[] = [];
    for (const seq of seqs) {
      const n = this.#failed.get(seq) ?? 0;
      // Not alone: one count at most, to mark it as a suspect.
      const next = alone ? n + 1 : Math.max(n, 1);
      this.#failed.set(seq, next);
      if (next >= MAX_ATTEMPTS) dead.push(seq);
    }
    return dead;
  }

  attempts(seq: number): number {
    return this.#failed.get(seq) ?? 0;
  }

  /** Delivered or set aside: no longer tracked. */
  forget(seq: number): void {
    this.#failed.delete(seq);
  }
}
