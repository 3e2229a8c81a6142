// Admission of server RPCs: at most `inProgress` handlers run at once and `queued` wait; the excess
// is refused at once (the caller answers it with an error reply). Issue 12: 50,000 getGpioStatus
// requests started 50,000 handlers at once and took the process out of memory; a burst from a
// buggy rule chain must cost a bounded amount of memory and leave the telemetry path alone.

export interface RpcAdmissionLimits {
  /** Handlers running at once. */
  inProgress: number;
  /** Requests waiting for a free slot, in arrival order. */
  queued: number;
}

export const DEFAULT_RPC_ADMISSION: RpcAdmissionLimits = { inProgress: 8, queued: 256 };

export interface RpcAdmissionStats {
  admitted: number;
  rejected: number;
  peakInProgress: number;
  peakQueued: number;
}

export class RpcAdmission {
  readonly #limits: RpcAdmissionLimits;
  #running = 0;
  #queue: Array<() => Promise<void>> = [];
  readonly stats: RpcAdmissionStats = { admitted: 0, rejected: 0, peakInProgress: 0, peakQueued: 0 };

  constructor(limits: RpcAdmissionLimits = DEFAULT_RPC_ADMISSION) {
    this.#limits = { inProgress: Math.max(1, limits.inProgress), queued: Math.max(0, limits.queued) };
  }

  get inProgress(): number {
    return this.#running;
  }
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs `job` now or when a slot frees up; false (job never runs) when the queue is full. */
  submit(job: () => Promise<void>): boolean {
    if (this.#running < this.#limits.inProgress) {
      this.stats.admitted++;
      this.#run(job);
      return true;
    }
    if (this.#queue.length >= this.#limits.queued) {
      this.stats.rejected++;
      return false;
    }
    this.stats.admitted++;
    this.#queue.push(job);
    this.stats.peakQueued = Math.max(this.stats.peakQueued, this.#queue.length);
    return true;
  }

  /** Queued jobs that have not started are dropped (the connection they would answer on is gone). */
  clearQueue(): number {
    const n = this.#queue.length;
    this.#queue = [];
    return n;
  }

  #run(job: () => Promise<void>): void {
    this.#running++;
    this.stats.peakInProgress = Math.max(this.stats.peakInProgress, this.#running);
    void job()
      .catch(() => {}) // jobs answer their own errors (answerRpc); nothing may escape here
      .finally(() => {
        this.#running--;
        const next = this.#queue.shift();
        if (next) this.#run(next);
      });
  }
}
