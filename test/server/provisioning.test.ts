// Self-provisioning end to end: a unit with a provision key and no token asks the emulator to
// create it as a gateway, keeps the credentials (0600) and connects with them; after a restart
// it reuses them instead of provisioning again; a wrong secret is retried, never fatal.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { statSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import { validateConfig } from "../../server/config/load.ts";
import { Controller } from "../../server/controller.ts";
import { testLogger } from "../fakes/bridgeHarness.ts";
import { until } from "../fakes/waitFor.ts";
import { tempDir } from "../fakes/tempDir.ts";

function config(port: number, dataDir: string, secret = "psecret") {
  const r = validateConfig({
    hardware: "sim",
    dataDir,
    thingsboard: {
      host: "127.0.0.1",
      port,
      provision: { key: "pkey", secret },
      reconnectMinMs: 100,
      reconnectMaxMs: 1000,
    },
    http: { port: 0, host: "127.0.0.1" },
    devices: [{ id: "io", kind: "gpio", outputs: [{ pin: 17 }] }],
  });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.config;
}

describe("provisioning", () => {
  let emu: Emulator;
  let dir: string;
  const provisions: string[] = [];

  before(async () => {
    emu = await startEmulator({ provision: { key: "pkey", secret: "psecret" } });
    emu.events.on("provision", (status: string) => provisions.push(status));
    dir = tempDir("prov-");
  });
  after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("provisions itself as a gateway, stores the token with mode 0600, connects and serves its devices", async () => {
    const c = new Controller({
      config: config(emu.mqttPort, dir),
      log: testLogger(),
      unit: "u1",
      version: "test",
      dashboard: false,
    });
    await c.start();
    try {
      await until(() => emu.device("u1 Gateway")?.gateway === true, "gateway device provisioned");
      await until(() => emu.device("u1 io"), "sub-device announced through the provisioned gateway");
      const file = join(dir, "credentials.json");
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const creds = JSON.parse(readFileSync(file, "utf8")) as { accessToken: string; deviceName: string };
      assert.equal(creds.deviceName, "u1 Gateway");
      assert.ok(creds.accessToken.length >= 8);
      const r = await emu.rpc("u1 io", "toggle_gpio", { pin: 17 }, { twoWay: true, timeoutMs: 3000 });
      assert.deepEqual(r.body, { success: true, pin: 17, enabled: true });
    } finally {
      await c.stop();
    }
    assert.deepEqual(provisions, ["SUCCESS"]);
  });

  test("after a restart it reuses the stored credentials (no second provisioning)", async () => {
    const c = new Controller({
      config: config(emu.mqttPort, dir),
      log: testLogger(),
      unit: "u1",
      version: "test",
      dashboard: false,
    });
    await c.start();
    try {
      await until(() => c.connection?.status().state === "connected", "connected with stored credentials");
      assert.deepEqual(provisions, ["SUCCESS"]);
    } finally {
      await c.stop();
    }
  });

  test("a wrong provision secret is reported and retried, the appliance keeps running", async () => {
    const other = tempDir("prov-bad-");
    const c = new Controller({
      config: config(emu.mqttPort, other, "wrong"),
      log: testLogger(),
      unit: "u2",
      version: "test",
      dashboard: false,
    });
    await c.start();
    try {
      await until(() => provisions.includes("NOT_FOUND"), "NOT_FOUND answered");
      await until(
        () => c.snapshot().connection.lastError?.includes("provisioning"),
        "status shows the provisioning error",
      );
      assert.equal(emu.device("u2 Gateway"), undefined);
    } finally {
      await c.stop();
      rmSync(other, { recursive: true, force: true });
    }
  });
});
