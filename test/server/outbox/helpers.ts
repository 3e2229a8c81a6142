// Shared set-up for the outbox tests: temp dirs, a controllable clock, and a read-only look into the file.
import path from "node:path";
import Database from "better-sqlite3";
import { createLogger, type Logger } from "../../../server/util/logger.ts";
import { tempDir as sharedTempDir } from "../../fakes/tempDir.ts";

export const TOPIC = "v1/gateway/telemetry";

export function tempDir(): string {
  return sharedTempDir("outbox-test-");
}

export class Clock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
}

/** A logger that keeps its JSON lines, for asserting on what the user would see in the journal. */
export function capturingLogger(): { log: Logger; lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  const log = createLogger("debug", (line) => {
    const rec = JSON.parse(line) as { level: string; msg: string };
    lines.push({ level: rec.level, msg: rec.msg });
  });
  return { log, lines };
}

/** Seqs of the rows committed in the file, read through a separate connection (what a crash would leave). */
export function committedSeqs(dir: string): number[] {
  const db = new Database(path.join(dir, "outbox.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT seq FROM messages ORDER BY seq").all() as Array<{ seq: number }>).map((r) => r.seq);
  } finally {
    db.close();
  }
}

/** Logical size of the database (pages in use or free), WAL included, as SQLite sees it. */
export function databaseBytes(dir: string): number {
  const db = new Database(path.join(dir, "outbox.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return (db.pragma("page_count", { simple: true }) as number) * (db.pragma("page_size", { simple: true }) as number);
  } finally {
    db.close();
  }
}

export function payloadFor(i: number, points = 1): string {
  const values: Record<string, number> = {};
  for (let k = 0; k < points; k++) values[`k${k}`] = Math.round((i * 31 + k * 7) % 1000) / 10;
  return JSON.stringify({ "Sensor A": [{ ts: 1_700_000_000_000 + i, values }], i });
}

export function indexOf(payload: string): number {
  return (JSON.parse(payload) as { i: number }).i;
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
