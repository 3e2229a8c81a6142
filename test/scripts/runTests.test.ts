// Test output noise (issue 13): a test file on a fake clock (node:test MockTimers, as the
// developers' guide asks) run through scripts/run-tests.mjs prints its results, not Node's
// "ExperimentalWarning: The MockTimers API is an experimental feature" once per file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

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
