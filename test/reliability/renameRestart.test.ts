// A device renamed or deleted in ThingsBoard, then the appliance restarts. ThingsBoard sends
// gateway_device_renamed / gateway_device_deleted ONCE (DefaultGatewayNotificationsService,
// persistent one-way RPC) and looks devices up by name
// (AbstractGatewaySessionHandler.onDeviceConnect -> DefaultTransportApiService), so a gateway that
// forgot the rename would create a new device under the old name after the restart, and one that
// forgot the deletion would re-create the deleted device. Both are kept in state.json.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import { GW_NAME, GW_TOKEN, rawConfig, startApp, tempDir, UNIT } from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

const PUMP = `${UNIT} Pump`;
const FAN = `${UNIT} Fan`;
const DEVICES = [
  {
    id: "pump",
    kind: "gpio",
    name: "{unit} Pump",
    outputs: [{ pin: 17, label: "motor" }],
    report: { strategy: "every" },
  },
  {
    id: "fan",
    kind: "gpio",
    name: "{unit} Fan",
    outputs: [{ pin: 27, label: "motor" }],
    report: { strategy: "every" },
  },
];

describe("renames and deletions done in ThingsBoard survive a restart", () => {
  let emu: Emulator;
  const dir = tempDir("rel-rename-");

  before(async () => {
    emu = await startEmulator({
      gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }],
      minRpcTimeoutMs: 100,
      rpcTimeoutMs: 3000,
    });
  });
  after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    "rename + restart: telemetry under the new name, nothing re-created under the old one; a deleted device stays deleted",
    { timeout: 60_000 },
    async () => {
      const cfg = rawConfig(emu.mqttPort, dir, { devices: DEVICES });
      let app = await startApp(cfg);
      let pumpId = "";
      try {
        await app.ready();
        // Their first report delivered: what was sent before ThingsBoard's notice would re-create
        // a deleted device there too (the gateway cannot know yet).
        await until(() => emu.telemetry(PUMP).length > 0 && emu.telemetry(FAN).length > 0, "both devices reporting");
        pumpId = emu.device(PUMP)!.id;

        emu.renameDevice(PUMP, "Pump Room 2");
        emu.deleteDevice(FAN);
        await until(
          () => app.controller.runtime.find("Pump Room 2") !== undefined && app.controller.runtime.isDeleted(FAN),
          "rename and deletion applied",
        );
        const snap = app.controller.runtime.snapshots().find((s) => s.id === "pump");
        assert.equal(snap?.name, "Pump Room 2", "the dashboard shows the name ThingsBoard uses");
      } finally {
        await app.stop();
      }

      // Data already on its way when ThingsBoard renamed or deleted can still name the old device
      // (the gateway cannot know yet); from the restart on, nothing may.
      const named: string[] = [];
      const onPublish = (topic: string, payload: Buffer) => {
        const text = payload.toString();
        if (topic.startsWith("v1/gateway/") && (text.includes(`"${PUMP}"`) || text.includes(`"${FAN}"`)))
          named.push(`${topic} ${text}`);
      };
      emu.events.on("publish", onPublish);
      app = await startApp(cfg);
      try {
        await app.ready();
        assert.equal(app.controller.runtime.find("Pump Room 2")?.info.id, "pump");
        // A reading after the restart arrives under the new name, on the renamed device.
        const count0 = emu.telemetry("Pump Room 2").length;
        app.controller.bus.emit("telemetry", "Pump Room 2", { ts: Date.now(), values: { afterRestart: 1 } });
        await until(() => emu.telemetry("Pump Room 2").length > count0, "telemetry under the new name");
        assert.equal(emu.device("Pump Room 2")?.id, pumpId, "the same ThingsBoard device");
        // The deleted device produces nothing and is not announced: ThingsBoard does not get it back.
        app.controller.bus.emit("telemetry", FAN, { ts: Date.now(), values: { ghost: 1 } });
        app.controller.bus.emit("telemetry", "Pump Room 2", { ts: Date.now(), values: { marker: 1 } });
        await until(() => emu.telemetry("Pump Room 2", "marker").length > 0, "a later reading delivered");
        assert.deepEqual(
          named,
          [],
          "nothing sent under the old name or for the deleted device (either would create it)",
        );
        assert.equal(
          app.controller.runtime.list().some((d) => d.info.id === "fan"),
          false,
        );
      } finally {
        emu.events.off("publish", onPublish);
        await app.stop();
      }

      // Configured again (a new name in the config): the deletion no longer applies.
      const again = rawConfig(emu.mqttPort, dir, { devices: [DEVICES[0], { ...DEVICES[1], name: "{unit} New Fan" }] });
      app = await startApp(again);
      try {
        await app.ready();
        await until(() => emu.device(`${UNIT} New Fan`) !== undefined, "the re-configured device is announced");
      } finally {
        await app.stop();
      }
    },
  );
});
