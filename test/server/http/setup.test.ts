// First run without a password: only someone who can read the console log (the one-time code)
// can set the admin password; the hash lands in dataDir with mode 0600 and survives a restart.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AUTH_FILE } from "../../../server/http/auth/credentials.ts";
import { hashPassword } from "../../../server/http/auth/passwordHash.ts";
import { createLogger } from "../../../server/util/logger.ts";
import { login, postJson, startDashboard, type Running } from "./harness.ts";
import { tempDir } from "../../fakes/tempDir.ts";

function capturingLogger(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger("info", (l) => lines.push(l)), lines };
}

function setupCodeFrom(lines: string[]): string {
  for (const l of lines) {
    const m = /setup code with a new password: ([A-Z0-9]{5}-[A-Z0-9]{5})/.exec(l);
    if (m?.[1]) return m[1];
  }
  throw new Error("no setup code in the log");
}

async function sessionInfo(
  run: Running,
  cookie?: string,
): Promise<{ authenticated: boolean; role: string | null; setupRequired: boolean }> {
  const res = await fetch(`${run.base}/api/session`, { headers: cookie ? { cookie } : {} });
  return (await res.json()) as { authenticated: boolean; role: string | null; setupRequired: boolean };
}

describe("setup step", () => {
  const runs: Running[] = [];
  after(async () => {
    for (const r of runs) await r.close();
  });

  test("console code + new password sets the admin password, stored hashed with mode 0600", async () => {
    const dataDir = tempDir("tbgw-setup-");
    const { log, lines } = capturingLogger();
    const run = await startDashboard({ dashboard: {}, dataDir, log });
    runs.push(run);
    assert.deepEqual(await sessionInfo(run), {
      authenticated: false,
      role: null,
      setupRequired: true,
      viewerEnabled: false,
    });
    const code = setupCodeFrom(lines);
    assert.ok(
      lines.some((l) => l.includes('"level":"warn"') && l.includes(code)),
      "code printed at warn level",
    );

    assert.equal(
      (await postJson(`${run.base}/api/login`, { password: "anything-at-all" })).status,
      409,
      "no login before setup",
    );
    const wrong = await postJson(`${run.base}/api/setup`, { code: "AAAAA-AAAAA", password: "brand new pass" });
    assert.equal(wrong.status, 403);
    const short = await postJson(`${run.base}/api/setup`, { code, password: "short" });
    assert.equal(short.status, 400);
    assert.match((short.body as { error: string }).error, /at least 8 characters/);

    // Lower case and without the dash is accepted: people type what they read.
    const ok = await postJson(`${run.base}/api/setup`, {
      code: code.toLowerCase().replace("-", ""),
      password: "brand new pass",
    });
    assert.equal(ok.status, 200);
    const cookie = (ok.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    assert.equal((await sessionInfo(run, cookie)).role, "admin");

    const file = join(dataDir, AUTH_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const stored = readFileSync(file, "utf8");
    assert.doesNotMatch(stored, /brand new pass/);
    assert.match(stored, /"passwordHash":"scrypt\$16384\$8\$1\$/);
    assert.equal(
      (await postJson(`${run.base}/api/setup`, { code, password: "another pass!" })).status,
      409,
      "one-time",
    );
    assert.ok(!lines.some((l) => l.includes("brand new pass")), "password never logged");

    // A restart reads the stored hash: no setup step, the new password works.
    await run.close();
    const { log: log2, lines: lines2 } = capturingLogger();
    const again = await startDashboard({ dashboard: {}, dataDir, log: log2 });
    runs.push(again);
    assert.equal((await sessionInfo(again)).setupRequired, false);
    assert.throws(() => setupCodeFrom(lines2));
    assert.ok(await login(again.base, "brand new pass"));
    assert.equal((await postJson(`${again.base}/api/login`, { password: "correct horse" })).status, 401);
  });

  test("setup attempts are rate-limited like logins", async () => {
    const run = await startDashboard({ dashboard: {} });
    runs.push(run);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await postJson(`${run.base}/api/setup`, { code: "BBBBB-BBBBB", password: "brand new pass" })).status,
      );
    assert.deepEqual(statuses, [403, 403, 403, 403, 403, 429]);
  });

  test("a configured passwordHash is used; a corrupt stored file falls back to the setup step", async () => {
    const run = await startDashboard({ dashboard: { passwordHash: await hashPassword("hashed password") } });
    runs.push(run);
    assert.equal((await sessionInfo(run)).setupRequired, false);
    assert.ok(await login(run.base, "hashed password"));

    const dataDir = tempDir("tbgw-setup-");
    writeFileSync(join(dataDir, AUTH_FILE), "{\0\0\0 torn write");
    const { log, lines } = capturingLogger();
    const broken = await startDashboard({ dashboard: { passwordHash: "md5$abc" }, dataDir, log });
    runs.push(broken);
    assert.equal((await sessionInfo(broken)).setupRequired, true);
    assert.ok(lines.some((l) => l.includes("dashboard.passwordHash is not usable")));
    assert.ok(lines.some((l) => l.includes("is corrupt")));
    assert.ok(setupCodeFrom(lines));
  });

  test("five concurrent setups with the right code: exactly one wins, the others get 409, the saved password is the winner's", async () => {
    const dataDir = tempDir("tbgw-setup-race-");
    const { log, lines } = capturingLogger();
    const run = await startDashboard({ dashboard: {}, dataDir, log });
    runs.push(run);
    const code = setupCodeFrom(lines);
    const passwords = [1, 2, 3, 4, 5].map((i) => `racing password ${i}`);
    const results = await Promise.all(
      passwords.map((password) => postJson(`${run.base}/api/setup`, { code, password })),
    );
    const statuses = results.map((r) => r.status);
    assert.deepEqual(
      [...statuses].sort((a, b) => a - b),
      [200, 409, 409, 409, 409],
      `statuses ${statuses.join(",")}`,
    );
    const winner = passwords[statuses.indexOf(200)] as string;
    assert.ok(!readdirSync(dataDir).some((f) => f.endsWith(".tmp")), "no temporary file left behind");
    await run.close();
    const again = await startDashboard({ dashboard: {}, dataDir, log: capturingLogger().log });
    runs.push(again);
    assert.ok(await login(again.base, winner), "after a restart the winner's password works");
    for (const p of passwords.filter((x) => x !== winner))
      assert.equal(
        (await postJson(`${again.base}/api/login`, { password: p })).status,
        401,
        `${p} was refused, so it must not work`,
      );
  });
});
