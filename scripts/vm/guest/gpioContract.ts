// The GpioChip contract suite (test/drivers/gpio/contract.ts) over the real onoff adapter on
// gpio-sim: real sysfs, real epoll, so the watch() tests that the fake sysfs has to skip run too
// (issue 11). The suite runs as it does on a developer's machine, `node --import tsx --test`,
// from a copy of the checkout with the production node_modules beside it: node:test and
// node:assert are part of node, tsx is a production dependency, and nothing else the suite
// imports is a dev dependency.
import { cpSync, existsSync, symlinkSync } from "node:fs";
import { assert, sh } from "./harness.ts";
import { setPull, type SimGpio } from "./kernelSims.ts";

const SUITE = "test/drivers/gpio/onoffGpioSimContract.ts";
/** Every test of the contract: none may be skipped here. */
const CONTRACT_TESTS = 18;

export interface TapCounts {
  pass: number;
  fail: number;
  skipped: number;
  failures: string[];
}

/** The counts node:test's TAP reporter ends with ("# pass 18"), and the names of failed tests. */
export function tapCounts(tap: string): TapCounts {
  const count = (what: string): number => Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(tap)?.[1] ?? NaN);
  return {
    pass: count("pass"),
    fail: count("fail"),
    skipped: count("skipped"),
    failures: [...tap.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => m[1] ?? ""),
  };
}

/** Runs the contract against onoff on `sim`; the lines must be free (before the appliance starts). */
export async function runGpioContract(src: string, seed: string, sim: SimGpio): Promise<string> {
  const dir = "/root/gpio-contract";
  if (!existsSync(dir)) {
    cpSync(src, dir, { recursive: true, verbatimSymlinks: true });
    symlinkSync(`${seed}/node_modules`, `${dir}/node_modules`);
  }
  const r = await sh(
    "env",
    [`GPIO_SIM_DIR=${sim.simDir}`, "node", "--import", "tsx", "--test", "--test-reporter=tap", `${dir}/${SUITE}`],
    { allowFail: true, timeoutMs: 900_000, cwd: dir },
  );
  // Back to the board the appliance expects: every header line pulled down.
  for (let line = 0; line < 28; line++) setPull(sim, line, "pull-down");
  const c = tapCounts(r.out);
  const tail = (): string => r.out.trim().split("\n").slice(-12).join(" | ");
  assert(Number.isFinite(c.pass), `the suite printed no summary (exit ${r.code}): ${tail()}`);
  assert(
    c.fail === 0 && r.code === 0,
    `${c.pass} passed, ${c.fail} failed: ${c.failures.join("; ")} (exit ${r.code}); ${r.out
      .split("\n")
      .filter((l) => /error:|code:|expected|actual|Error/.test(l))
      .slice(0, 8)
      .map((l) => l.trim())
      .join(" | ")}`,
  );
  assert(
    c.skipped === 0 && c.pass === CONTRACT_TESTS,
    `${c.pass} passed, ${c.skipped} skipped; expected all ${CONTRACT_TESTS} to run`,
  );
  return `${c.pass} passed, ${c.fail} failed, ${c.skipped} skipped (the 8 watch() tests the fake sysfs skips included), onoff on "${sim.label}" base ${sim.base}`;
}
