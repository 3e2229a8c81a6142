// The part of watch() both adapters share, so the sim and the real chip report alike: remember the
// last settled logical value, report a value only when it differs from that one (a bounce that
// settles back where it started reports nothing), and pass it on only if `edge` wants it.
// Edges are logical: with active_low set the kernel applies the inversion to the edge attribute
// too (Documentation/admin-guide/gpio/sysfs.rst, "active_low"), so an active-low button being
// pressed is a rising edge on both the sim and the real chip.
import type { BinaryValue, Edge, WatchCallback } from "./types.ts";

export function edgeWants(edge: Edge, value: BinaryValue): boolean {
  switch (edge) {
    case "both":
      return true;
    case "rising":
      return value === 1;
    case "falling":
      return value === 0;
    case "none":
      return false;
  }
}

export class EdgeReporter {
  readonly edge: Edge;
  #last: BinaryValue;
  #listeners = new Set<WatchCallback>();
  #onListenerError: (err: unknown) => void;

  constructor(edge: Edge, initial: BinaryValue, onListenerError: (err: unknown) => void) {
    this.edge = edge;
    this.#last = initial;
    this.#onListenerError = onListenerError;
  }

  /** Last settled logical value (reported or filtered out). */
  get last(): BinaryValue {
    return this.#last;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /**
   * Sets the reference value without reporting: used when watching (re)starts on hardware where
   * nothing was tracked while nobody listened.
   */
  resync(value: BinaryValue): void {
    this.#last = value;
  }

  /** Adds a listener; the returned function removes it and is safe to call more than once. */
  add(cb: WatchCallback): () => void {
    // Wrap so the same function watched twice gets two independent subscriptions.
    const entry: WatchCallback = (value, ts) => cb(value, ts);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Takes a settled logical value; returns true if it was delivered to listeners. */
  settle(value: BinaryValue, ts: number): boolean {
    if (value === this.#last) return false;
    this.#last = value;
    if (!edgeWants(this.edge, value)) return false;
    for (const listener of Array.from(this.#listeners)) {
      try {
        listener(value, ts);
      } catch (err) {
        // One faulty listener must not starve the others nor kill the driver's timer/epoll thread.
        this.#onListenerError(err);
      }
    }
    return true;
  }

  clear(): void {
    this.#listeners.clear();
  }
}
