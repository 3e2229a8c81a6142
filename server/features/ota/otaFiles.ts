// The updater's files in the data directory (<dataDir>/ota/), shared with the root guard
// (scripts/ota-guard.sh) that applies a verified package before the service starts:
//   download.json   the package the partial download belongs to (resume only the same one)
//   package.part    bytes received so far; never run, never unpacked
//   package.tar.gz  the complete download (renamed from .part once whole)
//   upload.part     a package being uploaded on the dashboard; renamed to package.tar.gz only
//                   once whole, removed when the upload fails
//   origin.json     where the package being applied came from (ThingsBoard or an upload, by
//                   whom), so the release that results can say so; the guard ignores it
//   apply.json      written by the service after verification: the guard unpacks and switches
//   pending.json    written by the guard: the release on trial and the one to go back to
//   healthy         written by the service on trial once connected with devices running
//   result.json     the last outcome (the guard writes FAILED on a rollback), reported once
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { join } from "node:path";
import type { UpdateSource } from "../../events.ts";
import { isObject, parseJson } from "../../util/json.ts";

type FileName =
  | "download.json"
  | "package.part"
  | "upload.part"
  | "package.tar.gz"
  | "apply.json"
  | "pending.json"
  | "healthy"
  | "result.json"
  | "origin.json";
type JsonName = "download.json" | "apply.json" | "pending.json" | "result.json" | "origin.json";

export interface OtaTarget {
  title: string;
  version: string;
  size: number;
  checksum: string;
  algorithm: string;
}

export interface OtaResult {
  state: "UPDATED" | "FAILED";
  title: string;
  version: string;
  error?: string;
  checksum?: string;
  ts: number;
  reported: boolean;
  source?: UpdateSource;
}

export interface PendingRelease {
  version: string;
  target: string;
  previous: string;
  attempts: number;
}

export class OtaFiles {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = join(dataDir, "ota");
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
  }

  path(name: FileName): string {
    return join(this.dir, name);
  }

  /** A JSON file, or undefined when absent or unreadable (a torn write is treated as absent). */
  read(name: JsonName): Record<string, unknown> | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(name), "utf8");
    } catch {
      return undefined;
    }
    const r = parseJson(text);
    return r.ok && isObject(r.value) ? r.value : undefined;
  }

  /** Written to a temporary name, synced, then renamed: a power cut leaves the old or the new file. */
  write(name: Exclude<JsonName, "pending.json"> | "healthy", value: unknown): void {
    const tmp = `${this.path(name)}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(value)}\n`, { mode: 0o640 });
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path(name));
  }

  remove(...names: Array<Exclude<FileName, "pending.json">>): void {
    for (const n of names) rmSync(this.path(n), { force: true });
  }

  download(): OtaTarget | undefined {
    return toTarget(this.read("download.json"));
  }

  result(): OtaResult | undefined {
    const r = this.read("result.json");
    if (!r || (r["state"] !== "UPDATED" && r["state"] !== "FAILED") || typeof r["version"] !== "string")
      return undefined;
    return {
      state: r["state"],
      version: r["version"],
      title: typeof r["title"] === "string" ? r["title"] : "",
      ...(typeof r["error"] === "string" ? { error: r["error"] } : {}),
      ...(typeof r["checksum"] === "string" ? { checksum: r["checksum"] } : {}),
      ts: typeof r["ts"] === "number" ? r["ts"] : 0,
      reported: r["reported"] === true,
      ...this.#sourceOf(r["source"], r["version"]),
    };
  }

  /** The result's own source, else origin.json's when it is about the same version (the guard writes none). */
  #sourceOf(own: unknown, version: string): { source?: UpdateSource } {
    const s = toSource(own);
    if (s) return { source: s };
    const origin = this.read("origin.json");
    const o = origin && origin["version"] === version ? toSource(origin["source"]) : undefined;
    return o ? { source: o } : {};
  }

  pending(): PendingRelease | undefined {
    const p = this.read("pending.json");
    if (!p || typeof p["version"] !== "string" || typeof p["target"] !== "string" || typeof p["previous"] !== "string")
      return undefined;
    return {
      version: p["version"],
      target: p["target"],
      previous: p["previous"],
      attempts: typeof p["attempts"] === "number" ? p["attempts"] : 0,
    };
  }
}

export function toSource(v: unknown): UpdateSource | undefined {
  if (!isObject(v)) return undefined;
  if (v["kind"] === "thingsboard") return { kind: "thingsboard" };
  if (v["kind"] === "upload" && typeof v["by"] === "string") return { kind: "upload", by: v["by"] };
  return undefined;
}

export function toTarget(v: Record<string, unknown> | undefined): OtaTarget | undefined {
  if (!v) return undefined;
  const { title, version, size, checksum, algorithm } = v;
  if (
    typeof title !== "string" ||
    typeof version !== "string" ||
    typeof checksum !== "string" ||
    typeof algorithm !== "string"
  )
    return undefined;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return undefined;
  return { title, version, size, checksum, algorithm };
}

export function sameTarget(a: OtaTarget | undefined, b: OtaTarget | undefined): boolean {
  return (
    !!a &&
    !!b &&
    a.title === b.title &&
    a.version === b.version &&
    a.size === b.size &&
    a.checksum === b.checksum &&
    a.algorithm === b.algorithm
  );
}
