// Coalesces bus bursts before they reach the sockets: per device only the latest state is kept,
// and flushes happen at most every `intervalMs` (100 ms -> at most 10 updates/s per device per
// client). The first change after a quiet period goes out at once. One broadcast per flush is
// encoded once by socket.io for every client, so 20 clients x 100 updates/s stay cheap.
import type { ConnectionStatus, DeviceSnapshot, EventLogEntry, OutboxStatus } from "../events.ts";

export interface DeltaBatch {
  /** A fresh full snapshot is due (device set changed); every delta is then dropped (the snapshot has it all). */
  snapshot: boolean;
  devices: DeviceSnapshot[];
  connection: ConnectionStatus | null;
  outbox: OutboxStatus | null;
  events: EventLogEntry[];
}

/** Event-log entries kept per flush when a burst exceeds it (the page keeps 200 in all). */
export const MAX_EVENTS_PER_FLUSH = 200;

export class DeltaCoalescer {
  readonly intervalMs: number;
  #flush: (batch: DeltaBatch) => void;
  #devices = new Map<string, DeviceSnapshot>();
  #connection: ConnectionStatus | null = null;
  #outbox: OutboxStatus | null = null;
  #events: EventLogEntry[] = [];
  #snapshot = false;
  #timer: NodeJS.Timeout | null = null;
  #lastFlush = -Infinity;
  #stopped = false;

  constructor(intervalMs: number, flush: (batch: DeltaBatch) => void) {
    if (!(intervalMs >= 0)) throw new RangeError(`Invalid coalescing interval ${intervalMs}`);
    this.intervalMs = intervalMs;
    this.#flush = flush;
  }

  device(s: DeviceSnapshot): void {
    // Delete first so the map order follows the latest change.
    this.#devices.delete(s.id);
    this.#devices.set(s.id, s);
    this.#schedule();
  }

  connection(c: ConnectionStatus): void {
    this.#connection = c;
    this.#schedule();
  }

  outbox(o: OutboxStatus): void {
    this.#outbox = o;
    this.#schedule();
  }

  event(e: EventLogEntry): void {
    this.#events.push(e);
    if (this.#events.length > MAX_EVENTS_PER_FLUSH * 2)
      this.#events.splice(0, this.#events.length - MAX_EVENTS_PER_FLUSH);
    this.#schedule();
  }

  snapshot(): void {
    this.#snapshot = true;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    const wait = Math.max(0, this.#lastFlush + this.intervalMs - Date.now());
    this.#timer = setTimeout(() => this.#run(), wait);
  }

  #run(): void {
    this.#timer = null;
    this.#lastFlush = Date.now();
    const batch: DeltaBatch = this.#snapshot
      ? { snapshot: true, devices: [], connection: null, outbox: null, events: [] }
      : {
          snapshot: false,
          devices: [...this.#devices.values()],
          connection: this.#connection,
          outbox: this.#outbox,
          events: this.#events.length > MAX_EVENTS_PER_FLUSH ? this.#events.slice(-MAX_EVENTS_PER_FLUSH) : this.#events,
        };
    this.#devices = new Map();
    this.#connection = null;
    this.#outbox = null;
    this.#events = [];
    this.#snapshot = false;
    this.#flush(batch);
  }
}
