// ThingsBoard's JSON value rules (JsonConverter.parseProtoValues, reference §3.1) and the
// telemetry item shapes. Conversion problems are reported as ConversionError so each caller
// can map them to its own error class (E1/E3 on gateway topics, close on device topics).
import { isObject } from "./json.ts";
import type { TelemetryRecord } from "./model.ts";

export class ConversionError extends Error {}

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

/**
 * One value as the server stores it. Strings that parse as numbers become numbers because
 * transport.json.type_cast_enabled defaults to true; integers beyond the Java long range stay
 * strings. `null` is dropped by the caller. Gson keeps 42.0 a DOUBLE; JS cannot tell 42.0 from
 * 42, so such values print as 42 in what we store and send back.
 */
export function castValue(v: unknown): unknown {
  if (typeof v !== "string") return v;
  if (/^-?\d+$/.test(v)) {
    const big = BigInt(v);
    return big > LONG_MAX || big < LONG_MIN ? v : Number(v);
  }
  if (/^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(v)) return Number(v);
  return v;
}

/** Key/values of one object with nulls dropped (§3.1: `null` is silently dropped). */
export function toKeyValues(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || v === undefined) continue;
    if (typeof v === "number" && !Number.isFinite(v)) continue;
    out[k] = castValue(v);
  }
  return out;
}

/** A `ts` as Gson's getAsLong reads it: a number, or a numeric string. */
function readTs(raw: unknown): number {
  if (typeof raw === "number" && Number.isFinite(raw)) return Math.trunc(raw);
  if (typeof raw === "string" && /^-?\d+$/.test(raw.trim())) return Number(raw.trim());
  throw new ConversionError(`ts is not a number: ${JSON.stringify(raw)}`);
}

/**
 * One telemetry item: `{ts, values}` only when both are present (extra keys ignored), otherwise
 * the whole object is key/values stamped with `serverTs`. `metadata` is removed first on gateway
 * items (§4.5); when present all three of its fields are required.
 */
export function toTelemetryRecord(item: unknown, serverTs: number, stripMetadata: boolean): TelemetryRecord {
  if (!isObject(item)) throw new ConversionError("telemetry item is not a JSON object");
  let obj = item;
  if (stripMetadata && "metadata" in obj) {
    const md = obj["metadata"];
    if (!isObject(md) || md["connector"] == null || md["receivedTs"] == null || md["publishedTs"] == null) {
      throw new ConversionError("metadata needs connector, receivedTs and publishedTs");
    }
    const { metadata: _dropped, ...rest } = obj;
    obj = rest;
  }
  if ("ts" in obj && "values" in obj) {
    const values = obj["values"];
    if (!isObject(values)) throw new ConversionError("values is not a JSON object");
    return { ts: readTs(obj["ts"]), values: toKeyValues(values) };
  }
  return { ts: serverTs, values: toKeyValues(obj) };
}

/** Device-API telemetry root (§3.1): an object or an array of objects. */
export function toTelemetryRecords(root: unknown, serverTs: number): TelemetryRecord[] {
  if (Array.isArray(root)) return root.map((it) => toTelemetryRecord(it, serverTs, false));
  if (isObject(root)) return [toTelemetryRecord(root, serverTs, false)];
  throw new ConversionError("telemetry root is neither an object nor an array");
}

/** Number of data points a set of records carries (charged against the data-point limits). */
export function dataPoints(records: TelemetryRecord[]): number {
  let n = 0;
  for (const r of records) n += Object.keys(r.values).length;
  return n;
}
