import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { parsePasswordHash, verifyPassword } from "../../server/http/auth/passwordHash.ts";

const run = (input: string) =>
  spawnSync(process.execPath, ["--import", "tsx", "scripts/hash-password.ts"], {
    input,
    encoding: "utf8",
    timeout: 20_000,
  });

test("hash-password prints a scrypt hash the dashboard accepts, and refuses short passwords", async () => {
  const r = run("correct horse battery\n");
  assert.equal(r.status, 0, r.stderr);
  const parsed = parsePasswordHash(r.stdout.trim());
  assert.ok(parsed.ok);
  assert.equal(await verifyPassword("correct horse battery", parsed.value), true);
  assert.equal(await verifyPassword("wrong horse battery", parsed.value), false);
  const short = run("short\n");
  assert.equal(short.status, 2);
  assert.match(short.stderr, /at least 8/);
});
