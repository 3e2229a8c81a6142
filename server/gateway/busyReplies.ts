// Error replies to the RPCs that RpcAdmission refused. A flood refuses thousands in one burst,
// before a single PUBACK is back: publishing them all at once would put them all in MQTT.js's
// in-flight store. So at most `inFlight` are out at a time and at most `pending` wait, as compact
// topic/payload strings; past that a refused RPC gets no reply (ThingsBoard times it out) and is
// counted as unanswered.

export interface BusyRepliesStats {
  sent: number;
  unanswered: number;
}

export class BusyReplies {
  readonly #publish: (topic: string, payload: string) => Promise<void>;
  readonly #inFlight: number;
  readonly #pendingMax: number;
  #out = 0;
  #pending: Array<[string, string]> = [];
  #head = 0;
  readonly stats: BusyRepliesStats = { sent: 0, unanswered: 0 };

  constructor(
    publish: (topic: string, payload: string) => Promise<void>,
    o: { inFlight?: number; pending?: number } = {},
  ) {
    this.#publish = publish;
    this.#inFlight = o.inFlight ?? 64;
    this.#pendingMax = o.pending ?? 20_000;
  }

  add(topic: string, payload: string): void {
    if (this.#pending.length - this.#head >= this.#pendingMax) {
      this.stats.unanswered++;
      return;
    }
    this.#pending.push([topic, payload]);
    this.#pump();
  }

  /** The connection is gone: replies not sent yet could not reach the server any more. */
  clear(): void {
    this.stats.unanswered += this.#pending.length - this.#head;
    this.#pending = [];
    this.#head = 0;
  }

  #pump(): void {
    while (this.#out < this.#inFlight && this.#head < this.#pending.length) {
      const [topic, payload] = this.#pending[this.#head++] as [string, string];
      if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
        this.#pending = this.#pending.slice(this.#head);
        this.#head = 0;
      }
      this.#out++;
      this.#publish(topic, payload)
        .then(
          () => this.stats.sent++,
          () => this.stats.unanswered++,
        )
        .finally(() => {
          this.#out--;
          this.#pump();
        });
    }
  }
}
