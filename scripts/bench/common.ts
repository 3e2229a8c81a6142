// Shared pieces of the benchmarks: result types, percentiles, CPU and memory readings, the machine
// description stored with every run, and bounded waits. Nothing here measures by itself.
import { cpus } from "node:os";
import { readFileSync } from "node:fs";

/** One line of the printed table (and of the JSON file). */
export interface BenchRow {
  scenario: string;
  /** What was measured, e.g. "500 devices: data points/s acked". */
  metric: string;
  value: number;
  unit: string;
  /** The target from the issue, when there is one, as text ("≥ 100000"). */
  target?: string;
  /** Whether the target was met (undefined when there is no target). */
  met?: boolean;
  note?: string;
}

export interface ScenarioContext {
  quick: boolean;
  /** Log a progress line (stderr, so the table on stdout stays clean). */
  progress(msg: string): void;
}

export interface Scenario {
  name: string;
  describe: string;
  run(ctx: ScenarioContext): Promise<BenchRow[]>;
}

export function row(
  scenario: string,
  metric: string,
  value: number,
  unit: string,
  extra: Partial<BenchRow> = {},
): BenchRow {
  return { scenario, metric, value: round(value), unit, ...extra };
}

/** Target check for "at least" targets. */
export function atLeast(value: number, target: number): Pick<BenchRow, "target" | "met"> {
  return { target: `>= ${target}`, met: value >= target };
}

/** Target check for "at most" targets. */
export function atMost(value: number, target: number): Pick<BenchRow, "target" | "met"> {
  return { target: `<= ${target}`, met: value <= target };
}

export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  const a = Math.abs(v);
  const digits = a >= 1000 ? 0 : a >= 10 ? 1 : a >= 0.1 ? 3 : 5;
  return Number(v.toFixed(digits));
}

/** Nearest-rank percentile of unsorted samples; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarise(samples: ArrayLike<number>): { n: number; p50: number; p99: number; max: number } {
  let max = Number.NaN;
  for (let i = 0; i < samples.length; i++)
    max = Number.isNaN(max) ? (samples[i] as number) : Math.max(max, samples[i] as number);
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), max };
}

/** CPU seconds (user + system) this process used since `since`. */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux (sysconf(_SC_CLK_TCK)); 100 on every Pi and x86 kernel we target

/** CPU seconds and resident bytes of another process from /proc (Linux); null when unreadable. */
export function procSample(pid: number): { cpuSec: number; rssBytes: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" of the command name: state is field 3, utime 14, stime 15 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!rss || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return { cpuSec: (utime + stime) / CLOCK_TICKS, rssBytes: Number(rss[1]) * 1024 };
  } catch {
    return null;
  }
}

/** Bytes this process handed to write() so far (/proc/self/io wchar); null off Linux. */
export function bytesWritten(): number | null {
  try {
    const m = /^wchar:\s+(\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  date: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

/** Resolves when `check` is true, polling every `everyMs`; rejects after `timeoutMs`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Format the rows as a fixed-width table. */
export function formatTable(rows: readonly BenchRow[]): string {
  const head = ["scenario", "metric", "value", "unit", "target", "ok"];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    String(r.value),
    r.unit,
    r.target ?? "",
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
