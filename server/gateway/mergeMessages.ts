// Replaying a backlog as it was queued would cost one publish per flush interval of the outage
// (an hour offline = 36,000 small messages), and ThingsBoard counts messages against its rate
// limits (10/s on ThingsBoard Cloud). So consecutive queued messages of a mergeable topic are
// combined into one publish up to the payload limit. Merging is a real JSON merge: per device the
// record arrays are concatenated in order (a string join would repeat keys, and ThingsBoard's
// parser keeps only the last of duplicate keys, losing data).
import { isObject, parseJson } from "../util/json.ts";
import type { OutboxMessageLike } from "./sender.ts";
import { TOPIC, type KeyValues, type TsRecord } from "./protocol.ts";
import { PayloadBuilder, type BuiltMessage } from "./payloadBuilder.ts";

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

/** Groups consecutive messages of one mergeable topic; everything else stays as it is. Order is
 *  kept. A merged publish never carries more than maxPoints data points (the server refuses a
 *  message with more points than its rate-limit bucket holds). */
export function mergeMessages(messages: OutboxMessageLike[], maxPoints = Number.POSITIVE_INFINITY): MergedMessage[] {
  const out: MergedMessage[] = [];
  let run: OutboxMessageLike[] = [];
  let runPoints = 0;
  const close = () => {
    if (run.length) out.push(mergeRun(run));
    run = [];
    runPoints = 0;
  };
  for (const m of messages) {
    if (run.length && ((run[0] as OutboxMessageLike).topic !== m.topic || runPoints + m.points > maxPoints)) close();
    if (!MERGEABLE.has(m.topic)) {
      close();
      out.push({ topic: m.topic, payload: m.payload, points: m.points, seqs: [m.seq] });
      continue;
    }
    run.push(m);
    runPoints += m.points;
  }
  close();
  return out;
}

/**
 * The other way round: a queued message can be too big for the limits the server announced
 * after it was queued (a backlog built before the first connect, or limits that shrank). The
 * server would close the connection for it (oversized packet, or more data points than its
 * bucket holds), and a retry would do the same forever, so it is re-split here.
 */
export function splitOversized(m: MergedMessage, maxBytes: number, maxPoints: number): MergedMessage[] {
  const bytes = Buffer.byteLength(m.payload) + m.topic.length;
  if (bytes <= maxBytes && m.points <= maxPoints) return [m];
  const builder = new PayloadBuilder(maxBytes);
  builder.maxPoints = maxPoints;
  const p = parseJson(m.payload);
  let parts: BuiltMessage[] = [];
  if (p.ok && m.topic === TOPIC.gwTelemetry && isObject(p.value)) {
    const byDevice = new Map<string, TsRecord[]>();
    for (const [device, recs] of Object.entries(p.value)) if (Array.isArray(recs)) byDevice.set(device, recs.filter(isRecord));
    parts = builder.telemetry(byDevice);
  } else if (p.ok && m.topic === TOPIC.meTelemetry && Array.isArray(p.value)) {
    parts = builder.ownTelemetry(p.value.filter(isRecord));
  } else if (p.ok && m.topic === TOPIC.gwAttributes && isObject(p.value)) {
    parts = builder.attributes(new Map(Object.entries(p.value).filter((e): e is [string, KeyValues] => isObject(e[1]))));
  }
  if (parts.length <= 1) return [m]; // nothing we know how to split: send as it is
  return parts.map((x) => ({ topic: x.topic, payload: x.payload, points: x.points, seqs: m.seqs }));
}

function isRecord(r: unknown): r is TsRecord {
  return isObject(r) && typeof r.ts === "number" && isObject(r.values);
}
