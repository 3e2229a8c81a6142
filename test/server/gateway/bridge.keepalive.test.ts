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
    h = await startBridgeHarness({
      port: emu.mqttPort,
      keepaliveIdleMs: 300,
      devices: [
        { id: "quiet", kind: "gpio", name: "Quiet", outputs: [{ pin: 5 }], report: { strategy: "onChange" } },
        // Stays idle throughout: its renewed keepalives prove the keepalive timer ran meanwhile.
        { id: "idle", kind: "gpio", name: "Idle", outputs: [{ pin: 6 }], report: { strategy: "onChange" } },
      ],
    });
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
    try {
      const sent = () => emu.telemetry("Quiet").length;
      const n = sent();
      await until(() => sent() > n, "Quiet's telemetry reaches the server");
      const during = emu.clientAttributes("Quiet").gatewayKeepalive;
      // Positive signal instead of a fixed sleep: the idle device's keepalive is renewed twice,
      // so the keepalive timer had two chances to send one for Quiet too.
      const idle = () => emu.clientAttributes("Idle").gatewayKeepalive as number | undefined;
      const k0 = await until(idle, "Idle's first keepalive", 3000);
      const k1 = await until(() => ((idle() ?? 0) > k0 ? idle() : undefined), "Idle's keepalive renewed", 3000);
      await until(() => (idle() ?? 0) > (k1 ?? 0), "Idle's keepalive renewed again", 3000);
      assert.equal(emu.clientAttributes("Quiet").gatewayKeepalive, during, "no keepalive for a device that sends data");
    } finally {
      clearInterval(busy);
    }
  });
});

// The emulator expires sub-device sessions as ThingsBoard does (TransportActivityManager:
// transport.sessions.inactivity_timeout, checked every report_timeout), here after 1.5 s.
describe("a sub-device session that expires, and the keepalive that prevents it", () => {
  const INACTIVITY_MS = 1500;
  async function rig(keepaliveIdleMs: number): Promise<{ emu: Emulator; h: BridgeHarness; expired: string[] }> {
    const emu = await startEmulator({
      httpPort: null,
      gateways: [{ name: "GW", accessToken: "gw-token" }],
      sessionInactivityTimeoutMs: INACTIVITY_MS,
      sessionReportTimeoutMs: 50,
      minRpcTimeoutMs: 100,
    });
    const expired: string[] = [];
    emu.events.on("subSessionExpired", (name: string) => expired.push(name));
    const h = await startBridgeHarness({
      port: emu.mqttPort,
      keepaliveIdleMs,
      devices: [
        {
          id: "quiet",
          kind: "gpio",
          name: "Quiet",
          outputs: [{ pin: 5, label: "relay" }],
          report: { strategy: "onChange" },
        },
      ],
    });
    await h.ready();
    return { emu, h, expired };
  }

  test("without traffic the session expires silently and an RPC then finds no connection", async () => {
    const { emu, h, expired } = await rig(600_000); // keepalive far beyond the server's timeout
    try {
      await until(() => expired.includes("Quiet"), "the idle session expired", 10_000);
      assert.equal(h.connection.connected, true, "the gateway is not told");
      const r = await emu.rpc("Quiet", "setRelay", { relay: true }, { timeoutMs: 300 });
      assert.equal(r.status, 409, "NO_ACTIVE_CONNECTION");
    } finally {
      await h.stop();
      await emu.stop();
    }
  });

  test("the keepalive (idle time below the server's timeout) keeps it open: RPC still reaches the device", async () => {
    const { emu, h, expired } = await rig(INACTIVITY_MS / 3);
    try {
      // Three whole server timeouts pass (by the keepalive timestamps), with the expiry check running.
      const attrs = () => emu.clientAttributes("Quiet").gatewayKeepalive as number | undefined;
      await until(() => attrs() !== undefined, "first keepalive", 10_000);
      const start = attrs() as number;
      await until(() => (attrs() ?? 0) - start >= 3 * INACTIVITY_MS, "three timeouts of keepalives", 20_000);
      assert.deepEqual(expired, [], "never expired");
      const r = await emu.rpc("Quiet", "setRelay", { relay: true }, { timeoutMs: 3000 });
      assert.equal(r.status, 200);
    } finally {
      await h.stop();
      await emu.stop();
    }
  });
});
