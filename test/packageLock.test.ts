// Issue 13: `npm install` on a fresh clone must leave the tracked package-lock.json as it is, so
// that a `git pull` upgrade never conflicts with a lock file npm rewrote. The lock once listed the
// optional onoff and i2c-bus as "*" in its root "dependencies" (which no npm writes for an
// optionalDependencies entry), and every `npm install` removed those two lines again.
//
// The check re-derives the lock the way `npm install` does, on a copy of package.json and
// package-lock.json in a temp dir: --package-lock-only makes npm compute the tree and write the
// lock without touching node_modules, --ignore-scripts builds nothing, --offline with an empty
// cache proves no registry request is needed (the lock already has every version).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "./fakes/tempDir.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function firstDifference(a: string, b: string): string {
  const la = a.split("\n");
  const lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}: tracked ${JSON.stringify(la[i])}, npm writes ${JSON.stringify(lb[i])}`;
  }
  return "no line differs";
}

test("npm install leaves the tracked package-lock.json unchanged", { timeout: 120_000 }, () => {
  const dir = tempDir("lock-check-");
  try {
    for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(ROOT, f), join(dir, f));
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const res = spawnSync(
      npm,
      ["install", "--package-lock-only", "--ignore-scripts", "--offline", "--no-audit", "--no-fund"],
      {
        cwd: dir,
        encoding: "utf8",
        timeout: 110_000,
        env: { ...process.env, npm_config_cache: join(dir, ".npm-cache"), npm_config_update_notifier: "false" },
      },
    );
    assert.equal(
      res.status,
      0,
      `npm install --package-lock-only failed (a dependency missing from the lock needs the registry):\n${res.stderr}`,
    );
    const tracked = readFileSync(join(ROOT, "package-lock.json"), "utf8");
    const written = readFileSync(join(dir, "package-lock.json"), "utf8");
    assert.ok(
      tracked === written,
      `npm install rewrites package-lock.json; commit the lock npm writes (npm install --package-lock-only). First difference: ${firstDifference(tracked, written)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
