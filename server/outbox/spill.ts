// Spill decisions, kept apart from the Outbox bookkeeping: which entries leave memory, and which rows the
// overflow policy drops when the disk budget (maxDiskBytes) is reached. The policy is drop OLDEST, never
// newest, never a message in flight (its PUBACK may be on the way).
import type { Entry, MemoryQueue } from "./memoryQueue.ts";
import { ROW_OVERHEAD_BYTES, type OutboxDb } from "./sqliteStore.ts";

export interface SpillState {
  mem: MemoryQueue;
  /** Every disk-only row has seq > scanFrom; memory entries at or below it were paged back for take(). */
  scanFrom: number;
  /** Shared with the outbox: rows already scheduled for deletion (acked or dropped). */
  pendingDeletes: Set<number>;
}

/**
 * Picks `excess` pending entries to move out of memory. The oldest go first (they are what spills), except the
 * page take() just read back (seq <= scanFrom): evicting that would only make the next take() read it again.
 */
export function chooseEvictions(state: SpillState, excess: number): Set<Entry> {
  const out = new Set<Entry>();
  if (excess <= 0) return out;
  for (const e of state.mem) {
    if (out.size >= excess) return out;
    if (!e.inFlight && e.seq > state.scanFrom) out.add(e);
  }
  for (const e of state.mem.reversed()) {
    if (out.size >= excess) return out;
    if (!e.inFlight && e.seq <= state.scanFrom) out.add(e);
  }
  return out;
}

export interface DropResult {
  /** Memory entries dropped (paged-back rows, or rows of the batch that cannot fit at all). */
  fromMemory: Set<Entry>;
  /** Disk-only rows dropped, and their points. */
  diskOnly: number;
  diskOnlyPoints: number;
}

const COST_PAGE = 512;

/**
 * Frees at least `needBytes` of the disk budget by dropping the oldest rows; if the disk holds too little to
 * free, the oldest messages of the batch about to be written are dropped too. Dropped persisted rows are added
 * to pendingDeletes, so they are deleted in the same transaction as the batch (or the next one if it fails).
 */
export function makeRoom(state: SpillState, store: OutboxDb, needBytes: number, batch: readonly Entry[]): DropResult {
  const res: DropResult = { fromMemory: new Set(), diskOnly: 0, diskOnlyPoints: 0 };
  let need = needBytes;
  let after = 0;
  while (need > 0) {
    let rows;
    try {
      rows = store.costs(after, COST_PAGE);
    } catch {
      break; // the write that follows reports the disk error
    }
    if (rows.length === 0) break;
    for (const r of rows) {
      after = r.seq;
      if (state.pendingDeletes.has(r.seq)) continue;
      const e = state.mem.get(r.seq);
      if (e?.inFlight) continue;
      state.pendingDeletes.add(r.seq);
      if (e) res.fromMemory.add(e);
      else {
        res.diskOnly++;
        res.diskOnlyPoints += r.points;
      }
      need -= r.bytes + ROW_OVERHEAD_BYTES;
      if (need <= 0) break;
    }
  }
  for (const e of batch) {
    if (need <= 0) break;
    if (e.inFlight) continue;
    res.fromMemory.add(e);
    need -= e.bytes + ROW_OVERHEAD_BYTES;
  }
  return res;
}
