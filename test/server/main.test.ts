// The first hour (issue 13): server/main.ts as a child process with each start-up mistake a new
// user makes. Each must end with one or two sentences on stderr that name the fix, an exit code
// (2: the configuration, 1: the environment), and no stack trace unless LOG_LEVEL=debug. A good
// start prints the dashboard's one-time setup code as its own banner next to the URL.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rawConfig, tempDir, writeConfigFile } from "../fakes/appHarness.ts";
import { closedPort, occupyPort, runTs } from "../fakes/mainProcess.ts";

const dir = tempDir("main-startup-");
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A valid config file (simulated hardware, ThingsBoard on a closed port, dashboard on a free port) with `http` overrides. */
async function configFile(http: Record<string, unknown> = {}): Promise<string> {
  const sub = join(dir, `case-${++n}`);
  mkdirSync(sub);
  return writeConfigFile(sub, rawConfig(await closedPort(), join(sub, "data"), { http }));
}

function noStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at /m, "no stack trace below LOG_LEVEL=debug");
  assert.doesNotMatch(text, /"level":"error"/, "no JSON error line");
}

test("dashboard port taken (config or HTTP_PORT): which setting moves it, exit 1", { timeout: 120_000 }, async () => {
  const held = await occupyPort("127.0.0.1");
  try {
    const want = `The dashboard cannot listen on port ${held.port} (127.0.0.1:${held.port}): another program is already using it. Choose a free port with HTTP_PORT (e.g. HTTP_PORT=8080) or http.port in the config file.`;
    const viaConfig = runTs("server/main.ts", ["--config", await configFile({ port: held.port })]);
    assert.equal(await viaConfig.exited, 1);
    assert.equal(viaConfig.stderr().trim(), want);
    noStack(viaConfig.stdout() + viaConfig.stderr());

    const viaEnv = runTs("server/main.ts", ["--config", await configFile()], { HTTP_PORT: String(held.port) });
    assert.equal(await viaEnv.exited, 1);
    assert.equal(viaEnv.stderr().trim(), want);
  } finally {
    await held.close();
  }
});

test(
  "HARDWARE=pi off a Pi: says so and how to run here, exit 2; the stack only at debug",
  { timeout: 120_000, skip: existsSync("/sys/class/gpio/export") ? "this machine has sysfs GPIO" : false },
  async () => {
    const file = await configFile();
    const p = runTs("server/main.ts", ["--config", file], { HARDWARE: "pi" });
    assert.equal(await p.exited, 2);
    const err = p.stderr().trim();
    assert.match(
      err,
      /^HARDWARE=pi \(or hardware: pi in the config\) asks for the Raspberry Pi's GPIO, but this machine has none: .+\. On a computer that is not a Pi, use HARDWARE=sim \(simulated hardware\)\.$/s,
    );
    assert.equal(err.split("\n").length, 1, "one line");
    noStack(p.stdout() + err);
    // Not a claim that a Pi was found, only what was asked for.
    assert.doesNotMatch(p.stdout(), /"hardware: Raspberry Pi"/);

    const debug = runTs("server/main.ts", ["--config", file], { HARDWARE: "pi", LOG_LEVEL: "debug" });
    assert.equal(await debug.exited, 2);
    assert.match(debug.stderr(), /^\s+at .*openGpioChip/m, "LOG_LEVEL=debug shows where it failed");
  },
);

test(
  "--config names a file that does not exist: points to config.example.yaml, exit 2",
  { timeout: 60_000 },
  async () => {
    const missing = join(dir, "nope.yaml");
    const p = runTs("server/main.ts", ["--config", missing]);
    assert.equal(await p.exited, 2);
    assert.equal(
      p.stderr().trim(),
      `The config file ${missing} does not exist. Start from the example: cp config.example.yaml ${missing} and edit it (or run without --config for the demo).`,
    );
  },
);

test("a YAML syntax error: listed once, with its line, no dangling colon, exit 2", { timeout: 60_000 }, async () => {
  const file = join(dir, "broken.yaml");
  writeFileSync(file, 'thingsboard:\n  host: "tb.local\n  port: 1883\ndevices: []\n');
  const p = runTs("server/main.ts", ["--config", file]);
  assert.equal(await p.exited, 2);
  assert.equal(
    p.stderr().trim(),
    `Refusing to start because the configuration in ${file} is not valid:\n  - ${file}, line 2: YAML syntax: Missing closing "quote: "  host: \\"tb.local"`,
  );
});

test(
  "no password yet: the setup code is a banner next to the dashboard URL, and it works",
  { timeout: 120_000 },
  async () => {
    const p = runTs("server/main.ts", ["--config", await configFile()]);
    try {
      const [, port] = await p.waitStdout(/^Dashboard: http:\/\/localhost:(\d+)$/m);
      const [banner, code] = await p.waitStdout(
        /^\+-+\+\n\| Dashboard setup code: ([A-Z2-9]{5}-[A-Z2-9]{5}) +\|\n(\|.*\|\n)+\+-+\+$/m,
      );
      assert.ok(
        p.stdout().indexOf(banner) > p.stdout().indexOf(`Dashboard: http://localhost:${port}`),
        "right after the URL",
      );
      assert.match(banner, /npm run reset-password/);
      const res = await fetch(`http://127.0.0.1:${port}/api/setup`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: `http://127.0.0.1:${port}` },
        body: JSON.stringify({ code, password: "correct horse battery" }),
      });
      assert.equal(res.status, 200, await res.text());
    } finally {
      assert.equal(await p.stop(), 0);
    }
  },
);
