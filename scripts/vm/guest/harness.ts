// The check runner of the VM test (runs inside the VM as root): each check prints one line
// "VMCHECK PASS|FAIL|SKIP <name>: <detail>" on the console and into the results file that the
// host reads back from the disk image, then a closing "N passed, N failed, N skipped".
import { execFile } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";

const execFileP = promisify(execFile);
export const RESULTS_FILE = "/root/vm-results.txt";

export class CheckFailed extends Error {}

export interface Outcome {
  name: string;
  status: "PASS" | "FAIL" | "SKIP";
  detail: string;
  seconds: number;
}

function emit(line: string): void {
  // stdout goes to the serial console (the unit's StandardOutput=journal+console).
  process.stdout.write(`${line}\n`);
  appendFileSync(RESULTS_FILE, `${line}\n`);
}

export function note(text: string): void {
  emit(`VMNOTE ${text}`);
}

export class Checks {
  readonly outcomes: Outcome[] = [];

  constructor() {
    writeFileSync(RESULTS_FILE, "");
  }

  passed(name: string): boolean {
    return this.outcomes.some((o) => o.name === name && o.status === "PASS");
  }

  /** Runs fn as one check; its return value is the detail. Skips when a prerequisite failed. */
  async run(name: string, fn: () => Promise<string>, needs: string[] = []): Promise<boolean> {
    const missing = needs.filter((n) => !this.passed(n));
    if (missing.length)
      return this.#record({ name, status: "SKIP", detail: `needs ${missing.join(", ")}`, seconds: 0 });
    const start = performance.now();
    try {
      const detail = await fn();
      return this.#record({ name, status: "PASS", detail, seconds: (performance.now() - start) / 1000 });
    } catch (err) {
      const e = err as Error;
      const detail = e instanceof CheckFailed ? e.message : `${e.name}: ${e.message}`;
      return this.#record({ name, status: "FAIL", detail, seconds: (performance.now() - start) / 1000 });
    }
  }

  /** A check that cannot run in this VM, with the reason (counted as skipped, never as passed). */
  cannot(name: string, reason: string): void {
    this.#record({ name, status: "SKIP", detail: reason, seconds: 0 });
  }

  #record(o: Outcome): boolean {
    this.outcomes.push(o);
    emit(`VMCHECK ${o.status} ${o.name}: ${o.detail}${o.status === "SKIP" ? "" : ` (${o.seconds.toFixed(1)} s)`}`);
    return o.status === "PASS";
  }

  summary(): number {
    const count = (s: Outcome["status"]) => this.outcomes.filter((o) => o.status === s).length;
    emit(`vm: ${count("PASS")} passed, ${count("FAIL")} failed, ${count("SKIP")} skipped`);
    return count("FAIL");
  }
}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new CheckFailed(message);
}

/** Runs a command; rejects with its output when it exits non-zero. */
export async function sh(
  cmd: string,
  args: string[],
  opts: { allowFail?: boolean; timeoutMs?: number; cwd?: string } = {},
): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileP(cmd, args, {
      timeout: opts.timeoutMs ?? 600_000,
      maxBuffer: 16 << 20,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    return { code: 0, out: `${r.stdout}${r.stderr}` };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    const out = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    if (opts.allowFail) return { code: typeof e.code === "number" ? e.code : -1, out };
    throw new CheckFailed(
      `${cmd} ${args.join(" ")} failed (${String(e.code)}): ${out.trim().split("\n").slice(-8).join(" | ") || e.message}`,
    );
  }
}

/**
 * Polls `probe` until it returns a value other than undefined, at most timeoutMs (for state that
 * announces no event: systemd unit properties, sysfs files). Rejects with `what` on timeout.
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  everyMs = 200,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline)
      throw new CheckFailed(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** systemctl show -p ... as a record. */
export async function unitProps(unit: string, props: string[]): Promise<Record<string, string>> {
  const { out } = await sh("systemctl", ["show", unit, ...props.map((p) => `-p${p}`)], { allowFail: true });
  const rec: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) rec[line.slice(0, i)] = line.slice(i + 1);
  }
  return rec;
}
