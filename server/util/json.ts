// Safe JSON helpers for every boundary: parsing never throws, and narrowing is explicit.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseJson(text: string | Buffer): ParseResult<unknown> {
  try {
    return { ok: true, value: JSON.parse(typeof text === "string" ? text : text.toString("utf8")) as unknown };
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isNonEmptyString(v: unknown): v is string {
  return typeof v === "string" && v.length > 0;
}

export function isInteger(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** A ThingsBoard attribute/telemetry value: primitives or JSON. null is dropped by the server. */
export function isTbValue(v: unknown): boolean {
  if (v === null) return false;
  const t = typeof v;
  if (t === "string" || t === "boolean") return true;
  if (t === "number") return Number.isFinite(v as number);
  if (t === "object") return true;
  return false;
}

/** A short, safe rendering of an untrusted value for logs and error messages: hostile input must
 *  not become 70 KB log lines (found by the fuzz tests). */
export function preview(v: unknown, max = 80): string {
  let s: string;
  try {
    s = typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}
