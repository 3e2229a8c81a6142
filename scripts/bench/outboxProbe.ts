// Wraps the outbox the bridge sees so a scenario can watch what goes in (payload capture for the
// bare-client ceiling, reading timestamps for latency) without touching the outbox itself.
import type { OutboxLike, OutboxMessageLike } from "../../server/gateway/sender.ts";

export type EnqueueProbe = (seq: number, topic: string, payload: string, points: number) => void;

export function probeOutbox(inner: OutboxLike, onEnqueue: EnqueueProbe): OutboxLike {
  const probe: OutboxLike = {
    enqueue(topic: string, payload: string, points: number): number {
      const seq = inner.enqueue(topic, payload, points);
      onEnqueue(seq, topic, payload, points);
      return seq;
    },
    take: (maxMessages: number, maxBytes?: number): OutboxMessageLike[] => inner.take(maxMessages, maxBytes),
    ack: (seq: number) => inner.ack(seq),
    release: (seqs?: number[]) => inner.release(seqs),
    get inFlight() {
      return inner.inFlight;
    },
    get pending() {
      return inner.pending;
    },
  };
  // Keep the optional live-first path when the real outbox has it, or the sender would behave differently.
  const newest = inner.takeNewest?.bind(inner);
  if (newest) probe.takeNewest = (maxMessages: number, maxBytes?: number) => newest(maxMessages, maxBytes);
  return probe;
}

const TS_RE = /"ts":(\d+)/g;

/** Every reading timestamp in a gateway telemetry payload, in order. */
export function readingTimestamps(payload: string): number[] {
  const out: number[] = [];
  for (const m of payload.matchAll(TS_RE)) out.push(Number(m[1]));
  return out;
}
