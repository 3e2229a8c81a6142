// The gateway as a managed ThingsBoard device, end to end through the real controller and the
// embedded emulator: service RPCs, statistics telemetry, client attributes, remote configuration,
// remote logs, rename/delete notices, and the claim button.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { validateConfig } from "../../../server/config/load.ts";
import { Controller } from "../../../server/controller.ts";
import type { Emulator } from "../../../scripts/emulator/index.ts";
import { createLogger } from "../../../server/util/logger.ts";
import { nextEvent, until } from "../../fakes/waitFor.ts";
import { startDemoThingsBoard } from "../../../scripts/emulator/embedded.ts";
import { tempDir } from "../../fakes/tempDir.ts";

const GW = "u Gateway";

describe("gateway service", () => {
  let c: Controller<Emulator>;
  let emu: Emulator;
  let dir: string;

  before(async () => {
    dir = tempDir("gwsvc-");
    const r = validateConfig({
      hardware: "sim",
      dataDir: dir,
      thingsboard: { host: "localhost", accessToken: "demo-gateway-token", reconnectMinMs: 100, reconnectMaxMs: 1000 },
      gateway: { statsPeriodSec: 1, remoteLogLevel: "warn", claimButton: { pin: 26, holdSec: 0.5, activeLow: true } },
      devices: [
        { id: "io", kind: "gpio", outputs: [{ pin: 17 }], claim: { secretKey: "abc", durationMs: 60_000 } },
        { id: "env", kind: "sensor", chip: "bme280", intervalSec: 1 },
      ],
    });
    if (!r.ok) throw new Error(r.errors.join("; "));
    c = new Controller({
      config: r.config,
      log: createLogger("error", () => {}),
      unit: "u",
      version: "9.9.9",
      demo: true,
      embeddedThingsBoard: startDemoThingsBoard,
      dashboard: false,
    });
    await c.start();
    emu = c.emulator!;
    await until(() => c.connection?.status().state === "connected", "connected");
  });

  after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rpc = async (method: string, params: unknown = null) =>
    (await emu.gatewayRpc(GW, method, params, { twoWay: true, timeoutMs: 3000 })).body as Record<string, unknown>;

  test("service RPCs: ping, devices, version, stats, i2c_scan, sensor_scan; reboot refused unless allowed", async () => {
    assert.deepEqual(await rpc("gateway_ping"), { code: 200, resp: "pong" });
    assert.deepEqual(await rpc("gateway_devices"), { "u io": "GPIO", "u env": "BME280" });
    assert.deepEqual(await rpc("gateway_version"), { version: "9.9.9" });
    const stats = await rpc("gateway_stats");
    assert.equal(typeof stats.processRss, "number");
    assert.equal(typeof stats.outboxQueued, "number");
    const scan = (await rpc("i2c_scan")) as {
      devices: Array<{ address: string; chip: string | null; configured: boolean }>;
    };
    assert.ok(
      scan.devices.some((d) => d.address === "0x76" && d.chip === "bme280" && d.configured),
      JSON.stringify(scan),
    );
    // No 1-Wire probe or DHT in this config: the kernel's (simulated) lists are empty.
    assert.deepEqual(await rpc("sensor_scan"), { w1: [], dht: [] });
    assert.match(JSON.stringify(await rpc("gateway_reboot", { seconds: 5 })), /not allowed/);
    assert.match(JSON.stringify(await rpc("no_such_thing")), /unknown gateway method/);
  });

  test("statistics arrive as the gateway's own telemetry, and client attributes describe the unit", async () => {
    await until(() => emu.telemetry(GW, "processRss").length > 0, "stats telemetry", 5000);
    await until(() => emu.clientAttributes(GW).version === "9.9.9", "version attribute");
    const attrs = emu.clientAttributes(GW);
    assert.equal(attrs.nodeVersion, process.version);
    assert.match(String(attrs.devices), /u io/);
  });

  test("remote configuration through the gateway's shared attributes; restart-only keys are reported", async () => {
    emu.setShared(GW, { logLevel: "debug", statsPeriodSec: 30, devices: [] });
    await until(() => c.log.root.level === "debug", "log level applied");
    await until(() => emu.clientAttributes(GW).remoteConfigNeedsRestart === "devices", "restart-needed reported");
    c.log.root.level = "error";
  });

  test("remote logs: warnings go to ThingsBoard as gateway telemetry", async () => {
    c.log.child("test").warn("remote log probe 42");
    await until(
      () => emu.telemetry(GW, "LOGS").some((r) => String(r.values.LOGS).includes("remote log probe 42")),
      "remote log line",
      8000,
    );
  });

  test("holding the claim button opens the claim window for devices with a claim section", async () => {
    const claimed = nextEvent<[string, { secretKey: string; durationMs: number }]>(
      emu.events,
      "claim",
      (name) => name === "u io",
      5000,
    );
    const sim = c.hardware.sim!;
    sim.gpio.setInput(26, 0); // active-low: pressed
    const [, info] = await claimed;
    sim.gpio.setInput(26, 1);
    assert.deepEqual(info, { secretKey: "abc", durationMs: 60_000 });
  });

  test("gateway_device_renamed switches to the new name; gateway_device_deleted stops using it", async () => {
    emu.renameDevice("u io", "u relays");
    await until(() => c.runtime.find("u relays"), "renamed in the runtime");
    await until(() => emu.device("u relays"), "new name connected");
    const r = await emu.rpc("u relays", "toggle_gpio", { pin: 17 }, { twoWay: true, timeoutMs: 3000 });
    assert.equal((r.body as { success: boolean }).success, true);
    const disconnected = nextEvent<[string]>(emu.events, "disconnect", (name) => name === "u env");
    emu.deleteDevice("u env");
    await until(() => c.runtime.isDeleted("u env"), "marked deleted");
    assert.equal(c.runtime.find("u env"), undefined);
    await disconnected; // v1/gateway/disconnect ends its sub-session
  });
});
