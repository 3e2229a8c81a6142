#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's own test runner (through tsx). After Node's summary it
// lists every skipped test with its reason (a skip must never pass unnoticed), then ends with one
// plain line "tests: N passed, N failed, N skipped". Extra arguments filter by path substring; an
// argument naming an existing file runs that file as is (the runner's own tests use fixtures).
//
// Temp dirs (issue: hundreds of test dirs piling up in /tmp): the tests run with TMPDIR set to a
// fresh directory of this run; whatever the tests leave in it is listed and fails the run, then the
// directory goes. Its path stays short (/tmp/tt-XXXXXX) because tests create unix sockets in
// tmpdir() and a socket path has at most 108 bytes.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir, userInfo } from "node:os";
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

const isFile = (p) => {
  try {
    return statSync(join(root, p)).isFile();
  } catch {
    return false;
  }
};
const named = filters.filter(isFile);
const substrings = filters.filter((f) => !isFile(f));
const files = [
  ...new Set([
    ...named.map((f) => relative(root, join(root, f))),
    ...(substrings.length === 0 && named.length > 0
      ? []
      : walk(join(root, "test")).filter((f) => substrings.length === 0 || substrings.some((s) => f.includes(s)))),
  ]),
].sort((a, b) => a.localeCompare(b));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const outcomesDir = mkdtempSync(join(tmpdir(), "run-tests-"));
const outcomesFile = join(outcomesDir, "outcomes.jsonl");
const testsTmp = mkdtempSync(join(tmpdir(), "tt-"));
// Modes as /tmp's: Mosquitto, started as root by the tests, drops to its own user and must still
// reach the certificates a test wrote under here (mkdtemp makes 0700).
chmodSync(testsTmp, 0o1777);
// Compile caches kept in tmpdir() by tools the tests run: tsx's (tsx-<uid>), and Node's own, which
// npm 11 switches on (lib/cli.js: module.enableCompileCache(), tmpdir()/node-compile-cache, on
// Node 22.1+ only). Each is linked to the usual one so that a run does not recompile everything;
// the links are the runner's, not leftovers of the tests.
const cacheNames = [`tsx-${process.geteuid?.() ?? userInfo().username}`, "node-compile-cache"];
for (const name of cacheNames) {
  mkdirSync(join(tmpdir(), name), { recursive: true });
  symlinkSync(join(tmpdir(), name), join(testsTmp, name));
}
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
// TMPDIR is what os.tmpdir(), mktemp, Mosquitto and Chromium all read; TMP/TEMP for anything
// written with Windows habits.
const env = { ...process.env, TMPDIR: testsTmp, TMP: testsTmp, TEMP: testsTmp };
const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit", env });
// Ctrl-C or a kill: the tests stop where they are, so what they left says nothing; the runner
// waits for them and removes its dirs instead of dying and leaving them in /tmp.
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    interrupted = true;
    child.kill(sig);
  });
child.on("exit", (code, signal) => {
  summarise();
  if (interrupted) {
    rmSync(testsTmp, { recursive: true, force: true });
    process.exit(1);
  }
  const leaked = leftovers();
  process.exit(signal || leaked ? 1 : (code ?? 1));
});

/** Reports (and then removes) what the tests left in their TMPDIR; true if they left anything. */
function leftovers() {
  let names = [];
  try {
    names = readdirSync(testsTmp)
      .filter((n) => !(cacheNames.includes(n) && lstatSync(join(testsTmp, n)).isSymbolicLink()))
      .sort();
  } catch {
    /* gone already: nothing to report */
  }
  rmSync(testsTmp, { recursive: true, force: true });
  if (names.length === 0) return false;
  const shown = names.slice(0, 10).join(", ") + (names.length > 10 ? ", ..." : "");
  console.log(`tests left ${names.length} temporary entr${names.length === 1 ? "y" : "ies"}: ${shown}`);
  return true;
}

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
