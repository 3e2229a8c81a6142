#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (through tsx). After Node's summary it
// lists every skipped test with its reason (a skip must never pass unnoticed), then ends with one
// plain line "tests: N passed, N failed, N skipped". Extra arguments filter by path substring.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { spawn } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}

const files = walk(join(root, "test"))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const outcomesDir = mkdtempSync(join(tmpdir(), "run-tests-"));
const outcomesFile = join(outcomesDir, "outcomes.jsonl");
const args = [
  "--import",
  "tsx",
  "--import",
  join(root, "scripts", "lib", "testWarnings.mjs"),
  "--test",
  "--test-concurrency=2",
  "--test-reporter=spec",
  "--test-reporter-destination=stdout",
  `--test-reporter=${join(root, "scripts", "lib", "skipReporter.mjs")}`,
  `--test-reporter-destination=${outcomesFile}`,
  ...files,
];
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
child.on("exit", (code, signal) => {
  summarise();
  process.exit(signal ? 1 : (code ?? 1));
});

function summarise() {
  let outcomes = [];
  try {
    outcomes = readFileSync(outcomesFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    /* the runner died before writing anything: its exit code says so */
  }
  rmSync(outcomesDir, { recursive: true, force: true });
  const count = (o) => outcomes.filter((t) => t.outcome === o).length;
  const skipped = outcomes.filter((t) => t.outcome === "skipped");
  if (skipped.length) {
    console.log(`\n${skipped.length} skipped test${skipped.length === 1 ? "" : "s"}, and why:`);
    for (const t of skipped)
      console.log(
        `  - ${relative(root, t.file.replace(/^file:\/\//, "")) || "?"}: ${t.name}: ${t.reason || "(no reason given)"}`,
      );
  }
  console.log(`tests: ${count("passed")} passed, ${count("failed")} failed, ${skipped.length} skipped`);
}
