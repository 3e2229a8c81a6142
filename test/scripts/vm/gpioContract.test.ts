// The VM's GPIO contract check (scripts/vm/guest/gpioContract.ts) reads its verdict from node:test's
// TAP summary: checked here on the TAP of the real suite over the sim, so a reporter change shows
// on the host rather than as a puzzling result after a VM boot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tapCounts } from "../../../scripts/vm/guest/gpioContract.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

test("tapCounts reads pass, fail and skipped from the TAP of the GPIO contract suite over the sim", () => {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "--test", "--test-reporter=tap", "test/drivers/gpio/sim.test.ts"],
    // Without NODE_TEST_CONTEXT: under this runner a child would report to it instead of printing TAP.
    { cwd: REPO, encoding: "utf8", env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  const c = tapCounts(r.stdout);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual({ ...c, pass: c.pass > 0 }, { pass: true, fail: 0, skipped: 0, failures: [] });
});

test("tapCounts names the failed tests", () => {
  const tap = [
    "TAP version 13",
    "# Subtest: GpioChip contract: X",
    "    not ok 1 - close is idempotent",
    "      ---",
    "      error: 'EBADF: bad file descriptor, read'",
    "not ok 1 - GpioChip contract: X",
    "# tests 18",
    "# pass 17",
    "# fail 1",
    "# skipped 0",
  ].join("\n");
  assert.deepEqual(tapCounts(tap), {
    pass: 17,
    fail: 1,
    skipped: 0,
    failures: ["close is idempotent", "GpioChip contract: X"],
  });
});
