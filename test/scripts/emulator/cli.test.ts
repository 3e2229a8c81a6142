import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import mqtt from "mqtt";
import { withTimeout } from "./helpers.ts";

const root = new URL("../../../", import.meta.url).pathname;

function runCli(args: string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/emulator/cli.ts", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => out, exit };
}

function waitForOutput(child: ChildProcess, output: () => string, re: RegExp): Promise<RegExpExecArray> {
  return withTimeout(
    new Promise<RegExpExecArray>((resolve) => {
      const check = (): void => {
        const m = re.exec(output());
        if (!m) return;
        child.stdout?.off("data", check);
        resolve(m);
      };
      child.stdout?.on("data", check);
      check();
    }),
    `CLI output ${re}`,
    15_000,
  );
}

describe("emulator: CLI", () => {
  test("prints its ports and login, serves the default gateway token, logs connects and stops on SIGTERM", async () => {
    const cli = runCli(["--mqtt-port", "0", "--http-port", "0"]);
    try {
      const m = await waitForOutput(
        cli.child,
        cli.output,
        /MQTT on 127\.0\.0\.1:(\d+), REST on http:\/\/127\.0\.0\.1:(\d+)/,
      );
      // The banner ends with the curl example; wait for it before reading the rest.
      await waitForOutput(cli.child, cli.output, /curl -s -X POST/);
      assert.match(cli.output(), /gateway access token\(s\): demo-gateway-token/);
      assert.match(cli.output(), /REST login: tenant@thingsboard\.org \/ tenant/);
      const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${m[1]}`, {
        username: "demo-gateway-token",
        reconnectPeriod: 0,
        connectTimeout: 3000,
      });
      await gw.publishAsync("v1/gateway/connect", JSON.stringify({ device: "Cli Dev" }), { qos: 1 });
      await waitForOutput(cli.child, cli.output, /device connected: Cli Dev/);
      await gw.endAsync();
      cli.child.kill("SIGTERM");
      assert.equal(await withTimeout(cli.exit, "CLI exit", 10_000), 0);
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  test("rehearsing a tenant: limit options are enforced, plain-device tokens and the device limit apply", async () => {
    const cli = runCli([
      "--mqtt-port",
      "0",
      "--http-port",
      "0",
      "--gateway-telemetry-messages",
      "1:3600",
      "--max-devices",
      "3",
      "--device",
      "Meter=meter-token",
    ]);
    try {
      const m = await waitForOutput(cli.child, cli.output, /MQTT on 127\.0\.0\.1:(\d+)/);
      await waitForOutput(cli.child, cli.output, /curl -s -X POST/);
      assert.match(cli.output(), /enforcing limits: gateway \{"telemetryMessages":"1:3600"\}/);
      assert.match(cli.output(), /device token\(s\): Meter=meter-token/);
      const meter = await mqtt.connectAsync(`mqtt://127.0.0.1:${m[1]}`, {
        username: "meter-token",
        reconnectPeriod: 0,
        connectTimeout: 3000,
      });
      await meter.endAsync();
      const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${m[1]}`, {
        username: "demo-gateway-token",
        reconnectPeriod: 0,
        connectTimeout: 3000,
        protocolVersion: 5,
      });
      // Gateway + Meter + A = 3 devices: B is refused for the device limit, the connection stays.
      const codes: number[] = [];
      for (const body of [{ A: [{ t: 1 }] }, { B: [{ t: 1 }] }, { A: [{ t: 2 }] }]) {
        codes.push(
          await new Promise<number>((resolve) =>
            gw.publish("v1/gateway/telemetry", JSON.stringify(body), { qos: 1 }, (err, pkt) => {
              resolve(
                err
                  ? ((err as { code?: number }).code ?? -1)
                  : ((pkt as { reasonCode?: number } | undefined)?.reasonCode ?? 0),
              );
            }),
          ),
        );
      }
      assert.deepEqual(codes, [0, 0x97, 0x97], "device limit, then the telemetry-message limit");
      await waitForOutput(cli.child, cli.output, /device refused \(Maximum number of devices reached!\): B/);
      await waitForOutput(cli.child, cli.output, /RATE LIMIT BREACHES so far: 1/);
      gw.end(true);
      cli.child.kill("SIGTERM");
      assert.equal(await withTimeout(cli.exit, "CLI exit", 10_000), 0);
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  test("a malformed limit exits with status 2 and says why", async () => {
    const cli = runCli(["--gateway-messages", "10/1"]);
    assert.equal(await withTimeout(cli.exit, "CLI exit", 15_000), 2);
    assert.match(cli.output(), /--gateway-messages: Invalid rate limit '10\/1'/);
  });

  test("an unknown argument exits with status 2 and a usage line", async () => {
    const cli = runCli(["--bogus"]);
    assert.equal(await withTimeout(cli.exit, "CLI exit", 15_000), 2);
    assert.match(cli.output(), /usage: npm run emulator/);
  });
});
