// Safe JSON helpers for every boundary: parsing never throws, and narrowing is explicit.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

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
 *  not become 70 KB log lines (found by the fuzz tests), and must not cost time or memory in
 *  proportion to its size either: a 50 MB RPC params string was stringified whole before being
 *  cut and took the process out of memory (issue 12). So the value is walked, JSON-like, and the
 *  walk stops once `max` characters or a fixed number of steps are written. */
export function preview(v: unknown, max = 80): string {
  if (v === undefined || typeof v === "function" || typeof v === "symbol") return String(v);
  const w = new PreviewWriter(max + 1);
  if (!w.walk(v)) return Object.prototype.toString.call(v);
  const text = w.text();
  if (!w.full && text.length <= max) return text;
  return typeof v === "string" ? `${text.slice(0, max)}… (${v.length} chars)` : `${text.slice(0, max)}…`;
}

/** Steps (values visited) before a preview gives up: bounds the time on a wide, shallow object. */
const PREVIEW_MAX_STEPS = 2000;

class PreviewWriter {
  #parts: string[] = [];
  #length = 0;
  #steps = 0;
  #ancestors: object[] = [];
  full = false;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  text(): string {
    return this.#parts.join("");
  }

  #add(s: string): void {
    const room = this.#limit - this.#length;
    if (s.length >= room) this.full = true;
    const cut = s.length > room ? s.slice(0, room) : s;
    this.#parts.push(cut);
    this.#length += cut.length;
  }

  /** Writes x; false on a cycle (the caller falls back to the type tag, as JSON.stringify throws). */
  walk(x: unknown): boolean {
    if (this.full) return true;
    if (++this.#steps > PREVIEW_MAX_STEPS) {
      this.full = true;
      return true;
    }
    if (typeof x === "object" && x !== null && typeof (x as { toJSON?: unknown }).toJSON === "function") {
      try {
        x = (x as { toJSON: () => unknown }).toJSON();
      } catch {
        x = Object.prototype.toString.call(x);
      }
    }
    if (typeof x === "string") this.#add(JSON.stringify(x.length > this.#limit ? x.slice(0, this.#limit) : x));
    else if (typeof x === "number") this.#add(Number.isFinite(x) ? String(x) : "null");
    else if (typeof x === "boolean" || typeof x === "bigint") this.#add(String(x));
    else if (x === null || typeof x !== "object") this.#add("null");
    else return this.#walkObject(x);
    return true;
  }

  #walkObject(x: object): boolean {
    if (this.#ancestors.includes(x)) return false;
    this.#ancestors.push(x);
    try {
      if (Array.isArray(x)) {
        this.#add("[");
        for (let i = 0; i < x.length && !this.full; i++) {
          if (i > 0) this.#add(",");
          if (!this.walk(x[i])) return false;
        }
        this.#add("]");
        return true;
      }
      this.#add("{");
      let first = true;
      for (const key in x) {
        if (this.full) break;
        if (!Object.prototype.hasOwnProperty.call(x, key)) continue;
        const value = (x as Record<string, unknown>)[key];
        if (value === undefined || typeof value === "function" || typeof value === "symbol") continue;
        if (!first) this.#add(",");
        first = false;
        this.#add(`${JSON.stringify(key.length > this.#limit ? key.slice(0, this.#limit) : key)}:`);
        if (!this.walk(value)) return false;
      }
      this.#add("}");
      return true;
    } finally {
      this.#ancestors.pop();
    }
  }
}
