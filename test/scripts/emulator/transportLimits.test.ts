// How ThingsBoard counts gateway traffic against the tenant profile's transport limits, the
// tenant device limit, and sub-device session expiry, as the emulator plays them. Sources
// (thingsboard/thingsboard, master dfe65d5abc):
// - common/transport/mqtt/.../session/AbstractGatewaySessionHandler.java (per-entry process,
//   aggregate PUBACK, processFailure, getAggregatePubAckCallback.onError = E5)
// - common/transport/transport-api/.../service/DefaultTransportService.java (checkLimits per
//   call: telemetry and attributes with their data points, the device lookup with none)
// - common/transport/transport-api/.../limits/DefaultTransportRateLimitService.java
//   (checkEntityRateLimit)
// - common/transport/transport-api/.../limits/DefaultEntityLimitsCache.java (device limit cache)
// - common/transport/transport-api/.../service/TransportActivityManager.java (inactivity expiry)
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { Emulator, EmulatorOptions } from "../../../scripts/emulator/index.ts";
import { closed, connectGateway, GW_TOKEN, publishRc, startTestEmulator, VERSIONS, withTimeout } from "./helpers.ts";

const HOUR = "3600";

describe("emulator: ThingsBoard's transport accounting", () => {
  let emu: Emulator | undefined;
  const clients: MqttClient[] = [];
  async function start(o: EmulatorOptions): Promise<Emulator> {
    emu = await startTestEmulator({ httpPort: null, enforceRateLimits: true, ...o });
    return emu;
  }
  async function gw(e: Emulator, v: 4 | 5 = 5): Promise<MqttClient> {
    const c = await connectGateway(e, v);
    clients.push(c);
    return c;
  }
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await emu?.stop();
    emu = undefined;
  });

  test("each device entry of a telemetry publish costs one telemetry message (AbstractGatewaySessionHandler, DefaultTransportService)", async () => {
    // 3 telemetry messages allowed; messages bucket big enough for the 3 device lookups + 3 session opens.
    const e = await start({ gatewayRateLimits: { messages: `6:${HOUR}`, telemetryMessages: `3:${HOUR}` } });
    const c = await gw(e);
    assert.equal(await publishRc(c, "v1/gateway/telemetry", { A: [{ t: 1 }], B: [{ t: 1 }], C: [{ t: 1 }] }), 0);
    const gone = closed(c);
    assert.equal(await publishRc(c, "v1/gateway/telemetry", { A: [{ t: 2 }] }), 0x97, "the 4th entry breaches");
    await gone;
    assert.equal(e.stats.rateLimitBreaches, 1);
  });

  test("telemetry and attributes do not take the messages bucket; attributes are charged with their key count (DefaultTransportRateLimitService.checkEntityRateLimit)", async () => {
    const e = await start({ gatewayRateLimits: { messages: `2:${HOUR}`, telemetryDataPoints: `5:${HOUR}` } });
    const c = await gw(e);
    // Lookup + session open of A = the 2 message tokens; then 2 + 3 data points.
    assert.equal(await publishRc(c, "v1/gateway/telemetry", { A: [{ x: 1, y: 2 }] }), 0);
    assert.equal(await publishRc(c, "v1/gateway/attributes", { A: { a: 1, b: 2, c: 3 } }), 0);
    const gone = closed(c);
    assert.equal(await publishRc(c, "v1/gateway/attributes", { A: { d: 4 } }), 0x97, "a 6th data point breaches");
    await gone;
    assert.deepEqual(e.clientAttributes("A"), { a: 1, b: 2, c: 3 });
  });

  test("a device lookup refused by the messages limit answers 0x80 and the connection stays open (AbstractGatewaySessionHandler.processFailure)", async () => {
    const e = await start({ gatewayRateLimits: { messages: `2:${HOUR}` } });
    const c = await gw(e);
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "A" }), 0, "lookup + session open");
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "A" }), 0, "already in the session: free");
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "B" }), 0x80);
    assert.equal(c.connected, true);
    assert.equal(e.stats.closedForError, 0);
    assert.equal(e.device("B"), undefined);
  });

  for (const v of VERSIONS) {
    test(`a breach closes the socket with no DISCONNECT packet (MQTT ${v === 5 ? "5" : "3.1.1"}; E5 ctx.close())`, async () => {
      const e = await start({ gatewayRateLimits: { telemetryMessages: `1:${HOUR}` } });
      const c = await gw(e, v);
      let disconnectPacket = false;
      c.on("disconnect", () => {
        disconnectPacket = true;
      });
      assert.equal(await publishRc(c, "v1/gateway/telemetry", { A: [{ t: 1 }] }), 0);
      const gone = closed(c);
      // On 3.1.1 the PUBACK carries no code: the refused entry looks delivered.
      assert.equal(await publishRc(c, "v1/gateway/telemetry", { A: [{ t: 2 }] }), v === 5 ? 0x97 : 0);
      await gone;
      assert.equal(disconnectPacket, false);
      assert.equal(e.telemetry("A").length, 1, "the refused entry is gone");
    });
  }

  test("the tenant device limit answers 0x97, keeps the connection, and the other devices of the message are stored (DefaultTransportService, EntityLimitsCache)", async () => {
    // GW, GW-basic and Plain exist already: 4 devices allowed leaves room for one sub-device.
    const e = await start({ enforceRateLimits: false, maxDevices: 4, deviceLimitCacheMs: 60_000 });
    const c = await gw(e);
    assert.equal(await publishRc(c, "v1/gateway/telemetry", { A: [{ t: 1 }], B: [{ t: 1 }] }), 0x97);
    assert.equal(c.connected, true);
    assert.equal(e.telemetry("A").length, 1, "A was created and stored");
    assert.equal(e.device("B"), undefined);
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "B" }), 0x97);
    assert.equal(await publishRc(c, "v1/gateway/telemetry", { A: [{ t: 2 }] }), 0, "A keeps flowing");
    assert.equal(e.stats.deviceLimitRefusals, 2);
    assert.equal(e.stats.closedForError, 0);
  });

  test("a name refused for the device limit stays refused until the cache entry expires", async () => {
    const e = await start({ enforceRateLimits: false, maxDevices: 3, deviceLimitCacheMs: 200 });
    const c = await gw(e);
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "B" }), 0x97);
    e.deleteDevice("Plain"); // a slot frees up, but the refusal is cached
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "B" }), 0x97);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "B" }), 0);
    assert.ok(e.device("B"));
  });

  test("an RPC reply whose data is JSON null is accepted (AbstractGatewaySessionHandler.onDeviceRpcResponseJson)", async () => {
    const e = await start({ enforceRateLimits: false });
    const c = await gw(e);
    assert.equal(await publishRc(c, "v1/gateway/rpc", { device: "A", id: 1, data: null }), 0);
    assert.equal(c.connected, true);
  });

  test("a sub-device session expires without traffic and is dropped silently; traffic keeps it (TransportActivityManager)", async () => {
    const e = await start({ enforceRateLimits: false, sessionInactivityTimeoutMs: 1500, sessionReportTimeoutMs: 50 });
    const c = await gw(e);
    const expired: string[] = [];
    e.events.on("subSessionExpired", (n: string) => expired.push(n));
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "Idle" }), 0);
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "Busy" }), 0);
    // Busy gets traffic every 50 ms until Idle expires (bounded), then must still be alive.
    const deadline = Date.now() + 10_000;
    while (!expired.includes("Idle")) {
      assert.ok(Date.now() < deadline, "Idle never expired");
      assert.equal(await publishRc(c, "v1/gateway/attributes", { Busy: { k: Date.now() } }), 0);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(expired, ["Idle"]);
    assert.equal(c.connected, true, "the gateway is not told");
    // An RPC to the expired device now waits for the next message naming it.
    const rpc = e.rpc("Idle", "ping", {}, { timeoutMs: 5000 });
    const got = new Promise<unknown>((r) =>
      c.on("message", (t, p) => t === "v1/gateway/rpc" && r(JSON.parse(p.toString()))),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await publishRc(c, "v1/gateway/attributes", { Idle: { k: 1 } }), 0);
    const req = (await withTimeout(got, "RPC after the device came back")) as { device: string; data: { id: number } };
    assert.equal(req.device, "Idle");
    c.publish("v1/gateway/rpc", JSON.stringify({ device: "Idle", id: req.data.id, data: { ok: true } }), { qos: 1 });
    assert.equal((await rpc).status, 200);
  });

  test("with overwriteActivityTime the gateway's own pings keep its sub-sessions alive (TransportActivityManager.updateState, AbstractGatewaySessionHandler.onGatewayPing)", async () => {
    const e = await start({
      enforceRateLimits: false,
      sessionInactivityTimeoutMs: 1000,
      sessionReportTimeoutMs: 50,
      gateways: [{ name: "GW", accessToken: GW_TOKEN, overwriteActivityTime: true }],
    });
    const c = await gw(e);
    const expired: string[] = [];
    e.events.on("subSessionExpired", (n: string) => expired.push(n));
    assert.equal(await publishRc(c, "v1/gateway/connect", { device: "Quiet" }), 0);
    // Only the gateway's PINGREQs for three timeouts (bounded loop, 100 ms apart).
    for (let i = 0; i < 30; i++) {
      c.stream.write(Buffer.from([0xc0, 0x00]));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(expired, []);
    assert.equal(e.device("GW")?.overwriteActivityTime, true);
  });
});
