// `npm run reset-password` (scripts/reset-password.ts), issue 13: a forgotten dashboard password is
// reset with a command, not by editing files. The whole path as a user walks it, in child
// processes: first start -> setup code -> password set -> reset -> the next start asks for a new
// setup code, and the new code sets a new password.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rawConfig, tempDir, writeConfigFile } from "../fakes/appHarness.ts";
import { closedPort, runTs } from "../fakes/mainProcess.ts";

const dir = tempDir("reset-password-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the app, sets `password` with the banner's setup code, stops it; returns the code used. */
async function firstRunSetup(configFile: string, password: string): Promise<string> {
  const app = runTs("server/main.ts", ["--config", configFile]);
  try {
    const [, port] = await app.waitStdout(/^Dashboard: http:\/\/localhost:(\d+)$/m);
    const [, code] = await app.waitStdout(/Dashboard setup code: ([A-Z2-9]{5}-[A-Z2-9]{5})/);
    const res = await fetch(`http://127.0.0.1:${port}/api/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: `http://127.0.0.1:${port}` },
      body: JSON.stringify({ code, password }),
    });
    assert.equal(res.status, 200, await res.text());
    return code as string;
  } finally {
    assert.equal(await app.stop(), 0);
  }
}

test(
  "a set password is reset: the next start prints a new setup code that sets a new password",
  { timeout: 180_000 },
  async () => {
    const data = join(dir, "data");
    const config = writeConfigFile(dir, rawConfig(await closedPort(), data));
    const firstCode = await firstRunSetup(config, "first password 1");
    assert.ok(existsSync(join(data, "dashboard-auth.json")));

    // With a password stored, a start prints no setup code.
    const locked = runTs("server/main.ts", ["--config", config]);
    await locked.waitStdout(/^Dashboard: http:\/\/localhost:\d+$/m);
    assert.equal(await locked.stop(), 0);
    assert.doesNotMatch(locked.stdout(), /setup code/);

    const reset = runTs("scripts/reset-password.ts", ["--config", config]);
    assert.equal(await reset.exited, 0, reset.stderr());
    assert.equal(
      reset.stdout().split("\n")[0],
      `Removed the dashboard password stored in ${join(data, "dashboard-auth.json")}.`,
    );
    assert.match(reset.stdout(), /sudo systemctl restart rpi-tb-gateway/);

    const secondCode = await firstRunSetup(config, "second password 2");
    assert.notEqual(secondCode, firstCode);

    // Nothing stored any more in a fresh data dir: said plainly, exit 0.
    const empty = runTs("scripts/reset-password.ts", ["--config", config, "--data-dir", join(dir, "elsewhere")]);
    assert.equal(await empty.exited, 0);
    assert.match(
      empty.stdout(),
      new RegExp(`^No dashboard password is stored in ${join(dir, "elsewhere")}: nothing to reset\\.`),
    );
  },
);

test(
  "a password from DASHBOARD_PASSWORD is not in the data dir: says where to change it, exit 1",
  { timeout: 60_000 },
  async () => {
    const config = writeConfigFile(dir, rawConfig(await closedPort(), join(dir, "data2")), "env.yaml");
    const r = runTs("scripts/reset-password.ts", ["--config", config], { DASHBOARD_PASSWORD: "from the environment" });
    assert.equal(await r.exited, 1);
    assert.equal(
      r.stderr().trim(),
      "The dashboard password comes from the DASHBOARD_PASSWORD variable, not from the data directory: change it there and restart the gateway.",
    );
  },
);

test(
  "a config that cannot start (no credentials): --data-dir still resets; without it, exit 2 and why",
  { timeout: 60_000 },
  async () => {
    const sub = join(dir, "invalid");
    mkdirSync(join(sub, "data"), { recursive: true });
    const config = join(sub, "config.yaml");
    writeFileSync(config, "thingsboard:\n  host: tb.local\n");
    writeFileSync(join(sub, "data", "dashboard-auth.json"), "{}\n");
    const unknown = runTs("scripts/reset-password.ts", ["--config", config]);
    assert.equal(await unknown.exited, 2);
    assert.match(
      unknown.stderr(),
      new RegExp(`^The configuration in ${config} is not valid, so its data directory is unknown:\n  - thingsboard: `),
    );
    assert.match(unknown.stderr(), /\(--data-dir DIR names it directly\.\)\n$/);
    assert.ok(existsSync(join(sub, "data", "dashboard-auth.json")), "nothing removed");
    const named = runTs("scripts/reset-password.ts", ["--config", config, "--data-dir", join(sub, "data")]);
    assert.equal(await named.exited, 0, named.stderr());
    assert.ok(!existsSync(join(sub, "data", "dashboard-auth.json")));
  },
);

test("--help and usage mistakes", { timeout: 60_000 }, async () => {
  const help = runTs("scripts/reset-password.ts", ["--help"]);
  assert.equal(await help.exited, 0);
  for (const opt of ["--config", "--data-dir", "--help"]) assert.match(help.stdout(), new RegExp(`${opt}\\b`));
  const bad = runTs("scripts/reset-password.ts", ["--nope"]);
  assert.equal(await bad.exited, 2);
  assert.match(bad.stderr(), /Unknown option '--nope'/);
});
