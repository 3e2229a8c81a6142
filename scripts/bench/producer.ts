// Simulated devices producing readings as fast as the pipeline takes them: telemetry events on
// the bus, round-robin over the devices, with backpressure (production stops while more than
// `maxInPipelinePoints` are emitted but not yet acknowledged, so the outbox stays bounded and
// in memory). wake() is called on every PUBACK.
import { performance } from "node:perf_hooks";
import type { EventBus } from "../../server/eventBus.ts";

export const READING_KEYS = ["temperature", "humidity", "pressure", "battery"] as const;

export interface ProducerOptions {
  devices: number;
  maxInPipelinePoints: number;
  /** Records emitted per event-loop turn at most (keeps timers and sockets served). */
  perTurn?: number;
}

export class TelemetryProducer {
  readonly names: string[];
  emittedPoints = 0;
  #bus: EventBus;
  #acked: () => number;
  #o: Required<ProducerOptions>;
  #running = false;
  #scheduled = false;
  #next = 0;
  #counter = 0;

  constructor(bus: EventBus, ackedPoints: () => number, o: ProducerOptions) {
    this.#bus = bus;
    this.#acked = ackedPoints;
    this.#o = { perTurn: 2000, ...o };
    this.names = Array.from({ length: o.devices }, (_, i) => `bench-dev-${String(i).padStart(3, "0")}`);
  }

  start(): void {
    this.#running = true;
    this.wake();
  }

  stop(): void {
    this.#running = false;
  }

  /** Something was acknowledged: produce more if we were held back. */
  wake(): void {
    if (!this.#running || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#step();
    });
  }

  #step(): void {
    if (!this.#running) return;
    const ts = Date.now();
    const keys = READING_KEYS.length;
    let n = 0;
    while (n < this.#o.perTurn && this.emittedPoints - this.#acked() < this.#o.maxInPipelinePoints) {
      const c = this.#counter++;
      const name = this.names[this.#next] as string;
      this.#next = (this.#next + 1) % this.names.length;
      // Values like a BME280 gives: two decimals, slowly moving.
      const v = (c % 1000) / 100;
      this.#bus.emit("telemetry", name, {
        ts,
        values: { temperature: 21 + v, humidity: 45 + v, pressure: 1013 + v, battery: 90 + (c % 10) },
      });
      this.emittedPoints += keys;
      n++;
    }
    // Held back by backpressure: the next PUBACK wakes us. Otherwise keep going next turn.
    if (n === this.#o.perTurn) this.wake();
  }
}

/** Readings at a fixed rate (records/s over all devices), emitted in small batches every `tickMs`;
 *  catches up after a late tick so the mean rate holds. */
export class PacedProducer {
  readonly names: string[];
  emittedPoints = 0;
  #bus: EventBus;
  #recordsPerSec: number;
  #tickMs: number;
  #timer: NodeJS.Timeout | null = null;
  #t0 = 0;
  #emitted = 0;
  #next = 0;

  constructor(bus: EventBus, devices: number, recordsPerSec: number, tickMs = 10) {
    this.#bus = bus;
    this.#recordsPerSec = recordsPerSec;
    this.#tickMs = tickMs;
    this.names = Array.from({ length: devices }, (_, i) => `bench-dev-${String(i).padStart(3, "0")}`);
  }

  start(): void {
    this.#t0 = performance.now();
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #tick(): void {
    const due = Math.floor(((performance.now() - this.#t0) / 1000) * this.#recordsPerSec);
    const ts = Date.now();
    for (; this.#emitted < due; this.#emitted++) {
      const name = this.names[this.#next] as string;
      this.#next = (this.#next + 1) % this.names.length;
      const v = (this.#emitted % 1000) / 100;
      this.#bus.emit("telemetry", name, {
        ts,
        values: { temperature: 21 + v, humidity: 45 + v, pressure: 1013 + v, battery: 90 + (this.#emitted % 10) },
      });
      this.emittedPoints += READING_KEYS.length;
    }
  }
}
