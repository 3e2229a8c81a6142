// The in-memory part of the outbox: entries kept sorted by seq, so "oldest first" is a walk from the front.
// Sizes stay in the low thousands (memoryMaxMessages plus one page plus the in-flight window), so plain
// arrays with binary search beat cleverer structures here.

export interface Entry {
  seq: number;
  topic: string;
  payload: string;
  points: number;
  ts: number;
  /** UTF-8 bytes of topic + payload. */
  bytes: number;
  /** A copy is committed in SQLite. */
  persisted: boolean;
  /** Handed out by take() and not yet acked or released. */
  inFlight: boolean;
  /** Flush tick count at enqueue (paged-back rows: irrelevant, they are persisted). */
  tick: number;
}

export class MemoryQueue {
  #items: Entry[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Enqueue path: seq is always the newest. */
  append(e: Entry): void {
    const last = this.#items[this.#items.length - 1];
    if (last && last.seq >= e.seq) throw new Error(`MemoryQueue.append: seq ${e.seq} is not after ${last.seq}`);
    this.#items.push(e);
  }

  indexOf(seq: number): number {
    let lo = 0;
    let hi = this.#items.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = (this.#items[mid] as Entry).seq;
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  get(seq: number): Entry | undefined {
    const i = this.indexOf(seq);
    return i < 0 ? undefined : this.#items[i];
  }

  has(seq: number): boolean {
    return this.indexOf(seq) >= 0;
  }

  first(): Entry | undefined {
    return this.#items[0];
  }

  removeAt(i: number): Entry | undefined {
    return this.#items.splice(i, 1)[0];
  }

  /** Removes every entry in the set, in one pass. */
  removeAll(drop: ReadonlySet<Entry>): void {
    if (drop.size === 0) return;
    this.#items = this.#items.filter((e) => !drop.has(e));
  }

  /** Merges entries loaded back from disk (sorted by seq, none already present) into place. */
  mergeSorted(rows: Entry[]): void {
    if (rows.length === 0) return;
    const out: Entry[] = [];
    out.length = this.#items.length + rows.length; // preallocated: every slot is written below
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < this.#items.length && j < rows.length) {
      const a = this.#items[i] as Entry;
      const b = rows[j] as Entry;
      if (a.seq < b.seq) {
        out[k++] = a;
        i++;
      } else {
        out[k++] = b;
        j++;
      }
    }
    while (i < this.#items.length) out[k++] = this.#items[i++] as Entry;
    while (j < rows.length) out[k++] = rows[j++] as Entry;
    this.#items = out;
  }

  [Symbol.iterator](): IterableIterator<Entry> {
    return this.#items[Symbol.iterator]();
  }

  /** Newest first. */
  *reversed(): IterableIterator<Entry> {
    for (let i = this.#items.length - 1; i >= 0; i--) yield this.#items[i] as Entry;
  }
}
