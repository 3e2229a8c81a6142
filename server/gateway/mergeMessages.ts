// Replaying a backlog as it was queued would cost one publish per flush interval of the outage
// (an hour offline = 36,000 small messages), and ThingsBoard counts messages against its rate
// limits (10/s on ThingsBoard Cloud). So consecutive queued messages of a mergeable topic are
// combined into one publish up to the payload limit. Merging is a real JSON merge: per device the
// record arrays are concatenated in order (a string join would repeat keys, and ThingsBoard's
// parser keeps only the last of duplicate keys, losing data).
import { isObject, parseJson } from "../util/json.ts";
import type { OutboxMessageLike } from "./sender.ts";
import { TOPIC } from "./protocol.ts";

export interface MergedMessage {
  topic: string;
  payload: string;
  points: number;
  seqs: number[];
}

const MERGEABLE = new Set<string>([TOPIC.gwTelemetry, TOPIC.gwAttributes, TOPIC.meTelemetry]);

function mergeRun(run: OutboxMessageLike[]): MergedMessage {
  const first = run[0] as OutboxMessageLike;
  const seqs = run.map((m) => m.seq);
  const points = run.reduce((n, m) => n + m.points, 0);
  if (run.length === 1) return { topic: first.topic, payload: first.payload, points, seqs };
  if (first.topic === TOPIC.meTelemetry) {
    const all: unknown[] = [];
    for (const m of run) {
      const p = parseJson(m.payload);
      if (p.ok && Array.isArray(p.value)) all.push(...(p.value as unknown[]));
    }
    return { topic: first.topic, payload: JSON.stringify(all), points, seqs };
  }
  const byDevice = new Map<string, unknown>();
  for (const m of run) {
    const p = parseJson(m.payload);
    if (!p.ok || !isObject(p.value)) continue;
    for (const [device, v] of Object.entries(p.value)) {
      const cur = byDevice.get(device);
      if (first.topic === TOPIC.gwTelemetry) byDevice.set(device, Array.isArray(cur) && Array.isArray(v) ? cur.concat(v) : v);
      else byDevice.set(device, isObject(cur) && isObject(v) ? { ...cur, ...v } : v); // attributes: later values win, as they would have
    }
  }
  return { topic: first.topic, payload: JSON.stringify(Object.fromEntries(byDevice)), points, seqs };
}

/** Groups consecutive messages of one mergeable topic; everything else stays as it is. Order is kept. */
export function mergeMessages(messages: OutboxMessageLike[]): MergedMessage[] {
  const out: MergedMessage[] = [];
  let run: OutboxMessageLike[] = [];
  const close = () => {
    if (run.length) out.push(mergeRun(run));
    run = [];
  };
  for (const m of messages) {
    if (run.length && (run[0] as OutboxMessageLike).topic !== m.topic) close();
    if (!MERGEABLE.has(m.topic)) {
      close();
      out.push({ topic: m.topic, payload: m.payload, points: m.points, seqs: [m.seq] });
      continue;
    }
    run.push(m);
  }
  close();
  return out;
}
