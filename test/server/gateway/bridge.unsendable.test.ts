// Issue 12: one 100 KB reading that cannot be split (a single value) against ThingsBoard's 64 KB
// maxPayloadSize was sent again and again; the server closed the connection each time (27
// reconnects in 40 s) and no live telemetry got through. Such a value is now refused when it is
// made; the rest of its reading and everything after it flows on the same connection.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type Emulator } from "../../../scripts/emulator/index.ts";
import { startBridgeHarness, type BridgeHarness } from "../../fakes/bridgeHarness.ts";
import { until } from "../../fakes/waitFor.ts";

const DEV = "Test Relays";
let emu: Emulator;
let h: BridgeHarness;

before(async () => {
  emu = await startEmulator({ gateways: [{ name: "Test Gateway", accessToken: "gw-token" }], maxPayloadSize: 65536 });
  h = await startBridgeHarness({ port: emu.mqttPort, mqttVersion: 5, maxPayloadBytes: 65536 });
  await h.ready();
});
after(async () => {
  await h?.stop();
  await emu?.stop();
});

test(
  "a 100 KB single value is refused at once; the rest of the reading and later ones are delivered, no reconnect",
  { timeout: 30_000 },
  async () => {
    const ts = Date.now();
    h.bus.emit("telemetry", DEV, { ts, values: { blob: "x".repeat(100 * 1024), small: 1 } });
    for (let i = 1; i <= 5; i++) h.bus.emit("telemetry", DEV, { ts: ts + i, values: { small: 1 + i } });
    await until(() => emu.telemetry(DEV, "small").length >= 6, "every small value delivered", 10_000);
    assert.equal(emu.telemetry(DEV, "blob").length, 0);
    assert.equal(h.bridge.unsendableValues, 1, "counted");
    assert.equal(h.connection.status().reconnects, 0, "the server never had a reason to close the connection");
    assert.equal(h.outbox.status().queued, 0, "nothing stuck in the outbox");
  },
);
