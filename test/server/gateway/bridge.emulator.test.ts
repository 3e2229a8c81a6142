// The bridge against the ThingsBoard emulator, over MQTT 3.1.1 and 5: every gateway topic in
// both directions, RPC error replies, the gateway's own device API, session limits, and the
// re-announce of every device after the server drops the connection.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type Emulator } from "../../../scripts/emulator/index.ts";
import { startBridgeHarness, type BridgeHarness } from "../../fakes/bridgeHarness.ts";
import { nextBusEvent, nextEvent, until } from "../../fakes/waitFor.ts";

const DEV = "Test Relays";
const GW = "Test Gateway";

for (const mqttVersion of [4, 5] as const) {
  describe(`bridge <-> emulator over MQTT ${mqttVersion === 5 ? "5" : "3.1.1"}`, () => {
    let emu: Emulator;
    let h: BridgeHarness;
    const connects: string[] = [];

    before(async () => {
      emu = await startEmulator({
        gateways: [{ name: GW, accessToken: "gw-token" }],
        gatewayRateLimits: { messages: "1000:1" },
        maxInflightMessages: 40,
        rpcTimeoutMs: 3000,
        minRpcTimeoutMs: 100,
      });
      emu.events.on("connect", (name: string) => connects.push(name));
      h = await startBridgeHarness({
        port: emu.mqttPort,
        mqttVersion,
        gatewayRpc: async (method) =>
          method === "gateway_ping"
            ? { ok: true, data: { code: 200, resp: "pong" } }
            : { ok: false, data: { error: `unknown gateway method ${method}` } },
      });
      await h.ready();
    });

    after(async () => {
      await h.stop();
      await emu.stop();
    });

    test("announces every device with its type before data, and applies getSessionLimits", async () => {
      await until(() => connects.includes(DEV), "connect for the device");
      assert.equal(emu.device(DEV)?.type, "GPIO Controller");
      assert.equal(h.connection.mqttVersion, mqttVersion);
      assert.ok(h.bridge.sessionLimits, "session limits fetched");
      assert.equal(h.bridge.sessionLimits?.maxInflightMessages, 40);
      assert.equal(h.bridge.sessionLimits?.gatewayRateLimits.messages, "1000:1");
    });

    test("telemetry keeps its timestamps and is coalesced per flush", async () => {
      const ts0 = Date.now() - 60_000;
      for (let i = 0; i < 20; i++) h.bus.emit("telemetry", DEV, { ts: ts0 + i, values: { seq: i, temp: 20 + i / 10 } });
      const recs = await until(() => {
        const r = emu.telemetry(DEV, "seq");
        return r.length >= 20 ? r : null;
      }, "20 telemetry records");
      assert.deepEqual(
        recs.map((r) => r.values.seq),
        [...Array(20).keys()],
      );
      assert.deepEqual(
        recs.map((r) => r.ts),
        [...Array(20).keys()].map((i) => ts0 + i),
      );
    });

    test("client attributes reach the device", async () => {
      h.bus.emit("clientAttributes", DEV, { firmware: "1.2.3", channels: 2 });
      await until(() => emu.clientAttributes(DEV).firmware === "1.2.3", "client attribute stored");
      assert.equal(emu.clientAttributes(DEV).channels, 2);
    });

    test("shared attribute updates are delivered to the bus, including deletions", async () => {
      const got = nextBusEvent(h.bus, "sharedAttributes", (d) => d === DEV);
      emu.setShared(DEV, { relay2: true, mode: "auto" });
      const [, data] = await got;
      assert.deepEqual(data, { relay2: true, mode: "auto" });
      await until(() => h.gpio.level(27) === 1, "relay2 driven by the shared attribute");
      const del = nextBusEvent(h.bus, "sharedAttributes", (_d, _x, deleted) => deleted.length > 0);
      emu.deleteShared(DEV, ["mode"]);
      assert.deepEqual((await del)[2], ["mode"]);
    });

    test("attribute requests in both forms answer value, values and neither", async () => {
      emu.setShared(DEV, { s1: 11, s2: "two" });
      assert.deepEqual(await h.bridge.requestAttributes(DEV, ["s1"], false, "key"), { s1: 11 });
      assert.deepEqual(await h.bridge.requestAttributes(DEV, ["s1"], false, "keys"), { s1: 11 });
      assert.deepEqual(await h.bridge.requestAttributes(DEV, ["s1", "s2", "missing"], false), { s1: 11, s2: "two" });
      assert.deepEqual(await h.bridge.requestAttributes(DEV, ["missing"], false), {});
      assert.deepEqual(await h.bridge.requestAttributes(DEV, ["firmware"], true, "key"), { firmware: "1.2.3" });
      assert.deepEqual(await h.bridge.requestAttributes(DEV, ["firmware", "channels"], true, "keys"), {
        firmware: "1.2.3",
        channels: 2,
      });
    });

    test("toggle_gpio through the REST API flips the pin and answers success", async () => {
      const before = h.gpio.level(17);
      const r = await emu.rpc(DEV, "toggle_gpio", { pin: 17 }, { twoWay: true, timeoutMs: 3000 });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { success: true, pin: 17, enabled: before === 0 });
      assert.equal(h.gpio.level(17), before === 0 ? 1 : 0);
      await until(() => emu.latest(DEV).relay1?.value === (before === 0), "relay1 telemetry after toggle");
      const status = await emu.rpc(DEV, "getGpioStatus", null, { twoWay: true, timeoutMs: 3000 });
      assert.deepEqual(status.body, { "17": before === 0, "27": true, "22": false });
    });

    test("RPC errors are answered, never silent: unknown method, bad params, input pin, unexposed pin, unknown device", async () => {
      const cases: Array<[string, unknown, RegExp]> = [
        ["reboot_everything", {}, /unknown method/],
        ["toggle_gpio", { pin: "x" }, /params.pin must be an integer/],
        ["toggle_gpio", { pin: 22 }, /input/],
        ["toggle_gpio", { pin: 5 }, /not exposed/],
        ["setGpioStatus", { pin: 17, enabled: "maybe" }, /enabled must be/],
      ];
      for (const [method, params, re] of cases) {
        const r = await emu.rpc(DEV, method, params, { twoWay: true, timeoutMs: 3000 });
        assert.equal(r.status, 200, `${method} answered`);
        assert.match(JSON.stringify(r.body), re);
      }
      // A device ThingsBoard knows through this gateway but the appliance does not serve.
      h.bus.emit("telemetry", "Ghost", { ts: Date.now(), values: { x: 1 } });
      await until(() => emu.device("Ghost"), "Ghost created by implicit connect");
      const r = await emu.rpc("Ghost", "toggle_gpio", { pin: 17 }, { twoWay: true, timeoutMs: 3000 });
      assert.equal(r.status, 200);
      assert.match(JSON.stringify(r.body), /unknown device/);
    });

    test("claiming goes out on v1/gateway/claim", async () => {
      const claimed = nextEvent<[string, { secretKey: string; durationMs: number }]>(
        emu.events,
        "claim",
        (name) => name === DEV,
      );
      await h.bridge.claim({ [DEV]: { secretKey: "s3cret", durationMs: 60_000 } });
      const [, info] = await claimed;
      assert.equal(info.secretKey, "s3cret");
      assert.equal(info.durationMs, 60_000);
    });

    test("the gateway's own device: telemetry, attributes, attribute request and RPC", async () => {
      h.bridge.ownTelemetry({ ts: 1_700_000_000_000, values: { cpuTemperature: 48.5 } });
      h.bus.emit("clientAttributes", "", { version: "0.1.0" });
      await until(() => emu.telemetry(GW, "cpuTemperature").length > 0, "gateway telemetry");
      assert.equal(emu.telemetry(GW, "cpuTemperature")[0]?.ts, 1_700_000_000_000);
      await until(() => emu.clientAttributes(GW).version === "0.1.0", "gateway attribute");
      const own = await h.bridge.requestOwnAttributes(["version"], []);
      assert.deepEqual(own, { client: { version: "0.1.0" }, shared: {} });
      const ping = await emu.gatewayRpc(GW, "gateway_ping", null, { twoWay: true, timeoutMs: 3000 });
      assert.deepEqual(ping, { status: 200, body: { code: 200, resp: "pong" } });
      const bad = await emu.gatewayRpc(GW, "nope", null, { twoWay: true, timeoutMs: 3000 });
      assert.match(JSON.stringify(bad.body), /unknown gateway method/);
    });

    test("after the server drops the connection, every device is announced again and RPC still works", async () => {
      const before = connects.filter((n) => n === DEV).length;
      const readyBefore = h.readyCount;
      emu.dropConnections();
      await h.ready(readyBefore + 1);
      assert.ok(connects.filter((n) => n === DEV).length > before, "connect re-sent after reconnect");
      const r = await emu.rpc(DEV, "getGpioStatus", null, { twoWay: true, timeoutMs: 3000 });
      assert.equal(r.status, 200);
      assert.equal(typeof (r.body as Record<string, unknown>)["17"], "boolean");
    });
  });
}
