// Temp dirs for tests (issue: every run left hundreds of dirs in /tmp). Every test and fake makes
// its temp dirs here, and each one is removed when the test process exits, whether or not the
// test removed it itself. scripts/run-tests.mjs fails the run if anything is left in TMPDIR.
//
// Why at process exit and not in node:test's after() of the current test/suite: after() hooks run
// in the order they were registered, so a dir registered before the Mosquitto/appliance/Chromium
// that writes into it would be removed while that child still runs (and it writes again on its
// way down). The test process exits after every hook of the file, so after every child it stops.
// Each test file runs in its own process (node --test), so "at exit" means "at the end of the file".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
}

/** A fresh dir under the OS temp dir, removed (with everything in it) when this process exits. */
export function tempDir(prefix: string): string {
  if (!hooked) process.once("exit", removeAll);
  hooked = true;
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes `dir` now (e.g. to free the disk between tests); it is no longer removed at exit. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}
