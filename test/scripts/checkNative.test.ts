// scripts/check-native.mjs: what install.sh runs in a new release before switching to it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { REPO } from "./helpers/sandbox.ts";
import { tempDir } from "../fakes/tempDir.ts";

const SCRIPT = path.join(REPO, "scripts", "check-native.mjs");
const tmp = tempDir("check-native-");
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const check = (dir: string) => spawnSync(process.execPath, [SCRIPT, dir], { encoding: "utf8", timeout: 30_000 });

test("the real native modules of this checkout load with this node: SQLite opens an in-memory database", () => {
  const res = check(REPO);
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /^better-sqlite3: ok \(SQLite \d+\.\d+\.\d+\)/m);
  assert.match(res.stdout, /^epoll: ok \(Epoll\)/m);
  assert.match(res.stdout, /^i2c-bus: ok \(openSync\)/m);
});

test("a real better-sqlite3 whose binary is damaged fails the check, named, with this node's ABI", () => {
  // A copy of the real package (and what it loads its binary with) with the .node file cut short,
  // as an interrupted extraction leaves it: a real dlopen failure.
  const app = path.join(tmp, "damaged");
  fs.mkdirSync(path.join(app, "node_modules"), { recursive: true });
  fs.writeFileSync(path.join(app, "package.json"), "{}");
  for (const dep of ["better-sqlite3", "bindings", "file-uri-to-path", "epoll", "i2c-bus", "nan"]) {
    const from = path.join(REPO, "node_modules", dep);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(app, "node_modules", dep), { recursive: true });
  }
  const binary = path.join(app, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
  fs.writeFileSync(binary, fs.readFileSync(binary).subarray(0, 4096));
  const res = check(app);
  assert.equal(res.status, 1);
  assert.match(
    res.stderr,
    new RegExp(
      `^better-sqlite3: does not load with node ${process.version.replaceAll(".", "\\.")} \\(${process.arch}, ABI ${process.versions.modules}\\): `,
      "m",
    ),
  );
  // A truncated binary kills the loading process (SIGBUS) rather than throwing: the probe runs in a child, so it is reported.
  assert.match(res.stderr, /^better-sqlite3: .*: (killed by SIG[A-Z]+|Error: .*better_sqlite3\.node)/m);
  assert.match(res.stdout, /^epoll: ok/m, "the others are still checked");
});

test("modules that are not installed at all (an optional build that failed) fail the check", () => {
  const app = path.join(tmp, "empty");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "package.json"), "{}");
  const res = check(app);
  assert.equal(res.status, 1);
  for (const m of ["better-sqlite3", "epoll", "i2c-bus"])
    assert.match(res.stderr, new RegExp(`^${m}: not installed in `, "m"));
});
