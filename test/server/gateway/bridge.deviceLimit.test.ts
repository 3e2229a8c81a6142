// The tenant's device limit: ThingsBoard answers a device it cannot create with PUBACK 0x97 and
// keeps the connection open (AbstractGatewaySessionHandler.processFailure with
// "Maximum number of devices reached!", DefaultTransportService; the refusal is remembered per
// name for a while, DefaultEntityLimitsCache). The bridge parks that device's messages (held,
// counted, shown), keeps every other device flowing, and retries it with backoff; once there is
// room, everything held is delivered. Needs MQTT 5: on 3.1.1 the PUBACK carries no reason code.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type Emulator } from "../../../scripts/emulator/index.ts";
import { startBridgeHarness, testLogger, type BridgeHarness } from "../../fakes/bridgeHarness.ts";
import { until } from "../../fakes/waitFor.ts";

const NAMES = ["Lim A", "Lim B", "Lim C", "Lim D"];

describe("tenant device limit: one device refused, the others keep flowing", () => {
  let emu: Emulator;
  let h: BridgeHarness;

  before(async () => {
    emu = await startEmulator({
      httpPort: null,
      gateways: [{ name: "GW", accessToken: "gw-token" }],
      // GW + Spare + 3 sub-devices = 5: the 4th sub-device is refused until Spare goes.
      devices: [{ name: "Spare", accessToken: "spare-token" }],
      maxDevices: 5,
      deviceLimitCacheMs: 100,
      ...(process.env.TEST_LOG ? { log: testLogger() } : {}),
    });
    h = await startBridgeHarness({
      port: emu.mqttPort,
      devices: NAMES.map((name, i) => ({ id: `lim${i}`, kind: "gpio", name })),
      parking: { min: 150, max: 600 },
    });
    await h.ready();
  });

  after(async () => {
    await h.stop();
    await emu.stop();
  });

  test("the refused device is parked and retried with backoff; the connection stays; the others deliver", async () => {
    await until(() => h.bridge.parked.some((p) => p.device === "Lim D"), "Lim D parked");
    for (let i = 0; i < 20; i++) for (const n of NAMES) h.bus.emit("telemetry", n, { ts: 1_000 + i, values: { i } });
    h.bridge.flush();
    for (const n of NAMES.slice(0, 3)) await until(() => emu.telemetry(n, "i").length === 20, `${n} delivered`);
    await until(() => (h.bridge.parked.find((p) => p.device === "Lim D")?.messages ?? 0) > 0, "Lim D's messages held");
    const held = h.bridge.parked.find((p) => p.device === "Lim D")!;
    assert.equal(held.points, 20, "all 20 readings of Lim D counted as held");
    // Retried with backoff, refused again each time (no room yet).
    await until(() => (h.bridge.parked.find((p) => p.device === "Lim D")?.attempts ?? 0) >= 3, "retried twice", 10_000);
    assert.equal(emu.device("Lim D"), undefined);
    assert.equal(emu.stats.closedForError, 0, "never disconnected for it");
    assert.equal(h.readyCount, 1, "one session");
    // Shown: on the device's dashboard card and as attributes of the gateway device.
    assert.equal(h.runtime.snapshots().find((s) => s.name === "Lim D")?.parked?.points, 20);
    await until(() => emu.clientAttributes("GW").parkedDeviceCount === 1, "gateway attribute parkedDeviceCount");
    assert.match(String(emu.clientAttributes("GW").parkedDevices), /"Lim D"/);
  });

  test("once there is room, the next retry is accepted and everything held is delivered in order", async () => {
    emu.deleteDevice("Spare");
    await until(() => emu.telemetry("Lim D", "i").length === 20, "Lim D's held readings delivered", 15_000);
    assert.deepEqual(
      emu.telemetry("Lim D", "i").map((r) => r.values.i),
      [...Array(20).keys()],
    );
    await until(() => h.bridge.parked.length === 0, "nothing parked");
    assert.equal(h.runtime.snapshots().find((s) => s.name === "Lim D")?.parked, undefined);
    assert.equal(emu.stats.closedForError, 0);
    assert.equal(h.readyCount, 1);
  });
});
