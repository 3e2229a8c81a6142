// Test output noise (issue 13): a test file on a fake clock (node:test MockTimers, as the
// developers' guide asks) run through scripts/run-tests.mjs prints its results, not Node's
// "ExperimentalWarning: The MockTimers API is an experimental feature" once per file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tempDir } from "../fakes/tempDir.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

test("run-tests.mjs: no MockTimers ExperimentalWarning in the output", { timeout: 120_000 }, async () => {
  // Without NODE_TEST_CONTEXT: node:test would take the child for a nested run and skip its files.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_TEST_CONTEXT"));
  const child = spawn(process.execPath, ["scripts/run-tests.mjs", "test/server/http/deltaCoalescer.test.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0, out.slice(-2000));
  assert.match(out, /✔ DeltaCoalescer/, "the file ran (it uses t.mock.timers)");
  assert.doesNotMatch(out, /ExperimentalWarning|MockTimers/);
});

// Temp dir leaks (issue: every run left hundreds of dirs in /tmp): the runner gives the tests a
// TMPDIR of their own, fails the run on anything left in it, and removes it either way.
test("run-tests.mjs: what the tests leave in TMPDIR fails the run", { timeout: 120_000 }, async () => {
  const systemTmp = tempDir("runner-tmp-");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "NODE_TEST_CONTEXT"));
  const child = spawn(process.execPath, ["scripts/run-tests.mjs", "test/scripts/fixtures/leavesTempEntries.ts"], {
    cwd: ROOT,
    env: { ...env, TMPDIR: systemTmp },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (out += b.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  assert.match(out, /tests: 1 passed, 0 failed, 0 skipped/, "the leaky test itself passes");
  assert.match(out, /tests left 2 temporary entries: leaky-dir-\w{6}, leaky-file\.txt/);
  assert.notEqual(code, 0, out.slice(-2000));
  // Only the compile caches (which the runner keeps outside the run's dir) stay.
  assert.deepEqual(
    readdirSync(systemTmp).filter((n) => !n.startsWith("tsx-") && n !== "node-compile-cache"),
    [],
    "the run's TMPDIR and the runner's own files are gone",
  );
});
