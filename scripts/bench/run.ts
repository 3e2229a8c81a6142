// `npm run bench -- [scenario...] [--quick] [--out DIR]`: runs the benchmark scenarios against the
// ThingsBoard emulator on loopback, prints a table and writes bench-results/<date>.json with the
// machine's CPU model, core count and Node version, so runs on different days and boards compare.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { formatTable, machineInfo, type BenchRow, type Scenario } from "./common.ts";
import { SCENARIOS } from "./scenarios.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface BenchRunResult {
  machine: ReturnType<typeof machineInfo>;
  command: string;
  quick: boolean;
  scenarios: Array<{ name: string; seconds: number; error?: string }>;
  rows: BenchRow[];
}

export async function runBench(
  names: readonly string[],
  quick: boolean,
  progress: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<BenchRunResult> {
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length)
    throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  const chosen: Scenario[] = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : [...SCENARIOS];
  const result: BenchRunResult = {
    machine: machineInfo(),
    command: `npm run bench --${names.length ? ` ${names.join(" ")}` : ""}${quick ? " --quick" : ""}`,
    quick,
    scenarios: [],
    rows: [],
  };
  for (const s of chosen) {
    const t0 = Date.now();
    progress(`== ${s.name}: ${s.describe}`);
    try {
      result.rows.push(...(await s.run({ quick, progress })));
      result.scenarios.push({ name: s.name, seconds: (Date.now() - t0) / 1000 });
    } catch (err) {
      // One broken scenario must not hide the others' figures.
      const msg = err instanceof Error ? err.message : String(err);
      progress(`!! ${s.name} failed: ${msg}`);
      result.scenarios.push({ name: s.name, seconds: (Date.now() - t0) / 1000, error: msg });
    }
  }
  return result;
}

async function main(): Promise<void> {
  const args = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (args.values.help) {
    process.stdout.write(
      `usage: npm run bench -- [scenario...] [--quick] [--out DIR]\nscenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.describe}`).join("\n")}\n`,
    );
    return;
  }
  const result = await runBench(args.positionals, args.values.quick === true);
  const m = result.machine;
  process.stdout.write(
    `\n${m.cpuModel} x${m.cores}, Node ${m.node}, ${m.platform}, ${m.date}${result.quick ? " (quick)" : ""}\n\n${formatTable(result.rows)}\n`,
  );
  const dir = args.values.out ?? join(ROOT, "bench-results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${m.date.replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${file}\n`);
  if (result.scenarios.some((s) => s.error)) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
