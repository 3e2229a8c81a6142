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
  /** The device entries of a v1/gateway/telemetry or /attributes message, in order. */
  devices?: string[];
}

/** Topics whose payload is {device: data, ...}: ThingsBoard processes (and charges) each entry. */
const PER_DEVICE = new Set<string>([TOPIC.gwTelemetry, TOPIC.gwAttributes]);

interface Parsed {
  m: OutboxMessageLike;
  /** The payload object of a PER_DEVICE message, null when it is not one (or unreadable). */
  obj: Record<string, unknown> | null;
}

function parsedOf(m: OutboxMessageLike): Parsed {
  if (!PER_DEVICE.has(m.topic)) return { m, obj: null };
  const p = parseJson(m.payload);
  return { m, obj: p.ok && isObject(p.value) ? p.value : null };
}

const MERGEABLE = new Set<string>([TOPIC.gwTelemetry, TOPIC.gwAttributes, TOPIC.meTelemetry]);

/** Whether a message's payload can be merged: merging reads it, and one that does not read would
 *  vanish from the merged publish while its seq is acked with it (issue 12: a message the server
 *  refuses must reach the server alone, to be refused and set aside, never be dropped unseen). */
function readable(x: Parsed): boolean {
  if (PER_DEVICE.has(x.m.topic)) return x.obj !== null;
  if (x.m.topic === TOPIC.meTelemetry) {
    const p = parseJson(x.m.payload);
    return p.ok && Array.isArray(p.value);
  }
  return true;
}

/** mergeRun for the readable stretches of a run; an unreadable message goes on its own, in order. */
function mergeOrKeep(run: Parsed[]): MergedMessage[] {
  if (run.length <= 1 || run.every(readable)) return run.length ? [mergeRun(run)] : [];
  const out: MergedMessage[] = [];
  let stretch: Parsed[] = [];
  for (const x of run) {
    if (readable(x)) {
      stretch.push(x);
      continue;
    }
    if (stretch.length) out.push(mergeRun(stretch));
    stretch = [];
    out.push(mergeRun([x]));
  }
  if (stretch.length) out.push(mergeRun(stretch));
  return out;
}

function mergeRun(run: Parsed[]): MergedMessage {
  const first = (run[0] as Parsed).m;
  const seqs = run.map((x) => x.m.seq);
  const points = run.reduce((n, x) => n + x.m.points, 0);
  if (run.length === 1) {
    const obj = (run[0] as Parsed).obj;
    return obj
      ? { topic: first.topic, payload: first.payload, points, seqs, devices: Object.keys(obj) }
      : { topic: first.topic, payload: first.payload, points, seqs };
  }
  if (first.topic === TOPIC.meTelemetry) {
    const all: unknown[] = [];
    for (const x of run) {
      const p = parseJson(x.m.payload);
      if (p.ok && Array.isArray(p.value)) all.push(...(p.value as unknown[]));
    }
    return { topic: first.topic, payload: JSON.stringify(all), points, seqs };
  }
  const byDevice = new Map<string, unknown>();
  for (const x of run) {
    if (!x.obj) continue;
    for (const [device, v] of Object.entries(x.obj)) {
      const cur = byDevice.get(device);
      if (first.topic === TOPIC.gwTelemetry)
        byDevice.set(device, Array.isArray(cur) && Array.isArray(v) ? cur.concat(v) : v);
      else byDevice.set(device, isObject(cur) && isObject(v) ? { ...cur, ...v } : v); // attributes: later values win, as they would have
    }
  }
  return {
    topic: first.topic,
    payload: JSON.stringify(Object.fromEntries(byDevice)),
    points,
    seqs,
    devices: [...byDevice.keys()],
  };
}

/**
 * Combines queued messages into few publishes; everything else stays as it is. A publish never
 * carries more than maxPoints data points (the server refuses a message with more points than
 * its rate-limit bucket holds) nor, on the gateway topics, more device entries than maxEntries
 * (each entry takes a telemetry-message token).
 *
 * Gateway telemetry is grouped by device rather than only by neighbour: a backlog of flushes
 * that each name every device (200 devices, one reading each) would otherwise go out as one
 * entry per device per flush, and the telemetry-message limit, not the data-point limit, would
 * set the pace. A message joins a group only if every earlier message naming one of its devices
 * is in that group or in one sent before it (groups go out in order of their first message), so
 * each device's records still arrive in the order they were queued. Every other topic merges
 * with its neighbours only, and is a barrier: no group reaches across it.
 */
export function mergeMessages(
  messages: OutboxMessageLike[],
  maxPoints = Number.POSITIVE_INFINITY,
  maxEntries = Number.POSITIVE_INFINITY,
  maxBytes = Number.POSITIVE_INFINITY,
): MergedMessage[] {
  // No entry limit: neighbours only, and a message on its own is not even parsed (hot path).
  if (!Number.isFinite(maxEntries)) return mergeNeighbours(messages, maxPoints, maxBytes);
  interface Group {
    first: number;
    items: Parsed[];
    points: number;
    bytes: number;
    devices: Set<string>;
    open: boolean;
  }
  const groups: Group[] = [];
  /** Per device: the `first` of the latest group holding one of its messages. */
  const lastGroupOf = new Map<string, number>();
  let run: Group | null = null; // the open neighbour-only run (non-telemetry topics)
  const closeAll = () => {
    for (const g of groups) g.open = false;
    run = null;
  };
  messages.forEach((m, idx) => {
    const x = parsedOf(m);
    if (m.topic === TOPIC.gwTelemetry && x.obj) {
      if (run) closeAll();
      const devs = Object.keys(x.obj);
      const mustFollow = devs.reduce((mx, d) => Math.max(mx, lastGroupOf.get(d) ?? -1), -1);
      const fits = (g: Group) => {
        if (!g.open || g.first < mustFollow || g.points + m.points > maxPoints || g.bytes + m.payload.length > maxBytes)
          return false;
        let union = g.devices.size;
        for (const d of devs) if (!g.devices.has(d)) union++;
        return union <= maxEntries;
      };
      let g = groups.find(fits);
      if (!g) groups.push((g = { first: idx, items: [], points: 0, bytes: 0, devices: new Set(), open: true }));
      g.items.push(x);
      g.points += m.points;
      g.bytes += m.payload.length;
      for (const d of devs) {
        g.devices.add(d);
        lastGroupOf.set(d, Math.max(lastGroupOf.get(d) ?? -1, g.first));
      }
      return;
    }
    const r = run as Group | null;
    const joins =
      r !== null &&
      MERGEABLE.has(m.topic) &&
      (r.items[0] as Parsed).m.topic === m.topic &&
      r.points + m.points <= maxPoints &&
      r.bytes + m.payload.length <= maxBytes &&
      (() => {
        let union = r.devices.size;
        if (x.obj) for (const d of Object.keys(x.obj)) if (!r.devices.has(d)) union++;
        return union <= maxEntries;
      })();
    if (r && joins) {
      r.items.push(x);
      r.points += m.points;
      r.bytes += m.payload.length;
      if (x.obj) for (const d of Object.keys(x.obj)) r.devices.add(d);
      return;
    }
    closeAll();
    const g: Group = {
      first: idx,
      items: [x],
      points: m.points,
      bytes: m.payload.length,
      devices: new Set(x.obj ? Object.keys(x.obj) : []),
      open: false,
    };
    groups.push(g);
    if (MERGEABLE.has(m.topic)) run = g;
  });
  return groups.flatMap((g) => mergeOrKeep(g.items));
}

function mergeNeighbours(messages: OutboxMessageLike[], maxPoints: number, maxBytes: number): MergedMessage[] {
  const out: MergedMessage[] = [];
  let run: OutboxMessageLike[] = [];
  let points = 0;
  let bytes = 0;
  const close = () => {
    if (run.length === 1) {
      const m = run[0] as OutboxMessageLike;
      out.push({ topic: m.topic, payload: m.payload, points: m.points, seqs: [m.seq] });
    } else if (run.length > 1) out.push(...mergeOrKeep(run.map(parsedOf)));
    run = [];
    points = 0;
    bytes = 0;
  };
  for (const m of messages) {
    if (
      run.length &&
      ((run[0] as OutboxMessageLike).topic !== m.topic ||
        points + m.points > maxPoints ||
        bytes + m.payload.length > maxBytes)
    )
      close();
    run.push(m);
    points += m.points;
    bytes += m.payload.length;
    if (!MERGEABLE.has(m.topic)) close();
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
export function splitOversized(
  m: MergedMessage,
  maxBytes: number,
  maxPoints: number,
  maxEntries = Number.POSITIVE_INFINITY,
): MergedMessage[] {
  const bytes = Buffer.byteLength(m.payload) + m.topic.length;
  if (bytes <= maxBytes && m.points <= maxPoints && (m.devices?.length ?? 0) <= maxEntries) return [m];
  const builder = new PayloadBuilder(maxBytes);
  builder.maxPoints = maxPoints;
  builder.maxEntries = maxEntries;
  const p = parseJson(m.payload);
  let parts: BuiltMessage[] = [];
  if (p.ok && m.topic === TOPIC.gwTelemetry && isObject(p.value)) {
    const byDevice = new Map<string, TsRecord[]>();
    for (const [device, recs] of Object.entries(p.value))
      if (Array.isArray(recs)) byDevice.set(device, recs.filter(isRecord));
    parts = builder.telemetry(byDevice);
  } else if (p.ok && m.topic === TOPIC.meTelemetry && Array.isArray(p.value)) {
    parts = builder.ownTelemetry(p.value.filter(isRecord));
  } else if (p.ok && m.topic === TOPIC.gwAttributes && isObject(p.value)) {
    parts = builder.attributes(
      new Map(Object.entries(p.value).filter((e): e is [string, KeyValues] => isObject(e[1]))),
    );
  }
  if (parts.length <= 1) return [m]; // nothing we know how to split: send as it is
  return parts.map((x) => ({ topic: x.topic, payload: x.payload, points: x.points, seqs: m.seqs }));
}

function isRecord(r: unknown): r is TsRecord {
  return isObject(r) && typeof r.ts === "number" && isObject(r.values);
}
