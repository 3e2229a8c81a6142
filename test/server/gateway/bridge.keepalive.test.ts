// ThingsBoard silently drops a sub-device's session after 10 minutes without traffic for it, and
// RPC then fails. A device that only reports changes must still be kept alive by the bridge.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type Emulator } from "../../../scripts/emulator/index.ts";
import { startBridgeHarness, type BridgeHarness } from "../../fakes/bridgeHarness.ts";
import { until } from "../../fakes/waitFor.ts";

describe("keepalive of idle sub-devices", () => {
  let emu: Emulator;
  let h: BridgeHarness;
  before(async () => {
    emu = await startEmulator({ httpPort: null, gateways: [{ name: "GW", accessToken: "gw-token" }] });
    h = await startBridgeHarness({ port: emu.mqttPort, keepaliveIdleMs: 300, devices: [{ id: "quiet", kind: "gpio", name: "Quiet", outputs: [{ pin: 5 }], report: { strategy: "onChange" } }] });
    await h.ready();
  });
  after(async () => {
    await h.stop();
    await emu.stop();
  });

  test("an idle device gets a keepalive attribute; a busy one does not", async () => {
    await until(() => typeof emu.clientAttributes("Quiet").gatewayKeepalive === "number", "keepalive attribute", 3000);
    const first = emu.clientAttributes("Quiet").gatewayKeepalive as number;
    await until(() => (emu.clientAttributes("Quiet").gatewayKeepalive as number) > first, "renewed while idle", 3000);
    // Keep the device busy: no keepalive needed while it sends data.
    const busy = setInterval(() => h.bus.emit("telemetry", "Quiet", { ts: Date.now(), values: { x: 1 } }), 50);
    await new Promise((r) => setTimeout(r, 200));
    const during = emu.clientAttributes("Quiet").gatewayKeepalive;
    await new Promise((r) => setTimeout(r, 700));
    clearInterval(busy);
    assert.equal(emu.clientAttributes("Quiet").gatewayKeepalive, during);
  });
});
