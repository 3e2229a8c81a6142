import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { Emulator } from "../../../scripts/emulator/index.ts";
import {
  connectGateway,
  nextMessage,
  publishRc,
  restLogin,
  startTestEmulator,
  withTimeout,
  type RestClient,
} from "./helpers.ts";

interface GwRpc {
  device: string;
  data: { id: number; method: string; params: unknown };
}

/** Answers every v1/gateway/rpc request for `device` with `reply(request)`. */
function autoReply(gw: MqttClient, device: string, reply: (r: GwRpc) => unknown): void {
  gw.on("message", (topic, payload) => {
    if (topic !== "v1/gateway/rpc") return;
    const r = JSON.parse(payload.toString()) as GwRpc;
    if (r.device !== device) return;
    gw.publish("v1/gateway/rpc", JSON.stringify({ device, id: r.data.id, data: reply(r) }), { qos: 1 });
  });
}

describe("emulator: server-side and client-side RPC", () => {
  let emu: Emulator;
  let rest: RestClient;
  before(async () => {
    emu = await startTestEmulator({
      clientRpcTimeoutMs: 100,
      minRpcTimeoutMs: 50,
      rateLimits: { messages: "20:1" },
      gatewayRateLimits: { telemetryDataPoints: "100:60" },
    });
    rest = await restLogin(emu);
  });
  after(() => emu.stop());

  test("two-way RPC through the REST API returns the device's reply", async () => {
    const gw = await connectGateway(emu, 5);
    await gw.subscribeAsync("v1/gateway/rpc", { qos: 1 });
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Relay" }), 0);
    autoReply(gw, "Relay", (r) => ({ echoed: r.data.params, method: r.data.method }));
    const id = emu.device("Relay")?.id ?? "";
    const res = await rest.call("POST", `/api/plugins/rpc/twoway/${id}`, { method: "setState", params: { on: true } });
    assert.deepEqual(res, { status: 200, body: { echoed: { on: true }, method: "setState" } });
    // ids count per device from 0.
    const second = await emu.rpc("Relay", "getState", null);
    assert.equal(second.status, 200);
    await gw.endAsync();
  });

  test("the request carries a per-device id from 0 and no one-way/two-way marker", async () => {
    const gw = await connectGateway(emu, 4);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Fresh" }), 0);
    const msg = nextMessage(gw, "v1/gateway/rpc");
    const res = emu.rpc("Fresh", "toggle_gpio", { pin: 1 }, { twoWay: false });
    assert.deepEqual((await msg).body, { device: "Fresh", data: { id: 0, method: "toggle_gpio", params: { pin: 1 } } });
    assert.deepEqual(await res, { status: 200, body: null });
    await gw.endAsync();
  });

  test("an RPC to a device that is not connected waits until a session names it", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Sleepy" }), 0);
    assert.equal(await publishRc(gw, "v1/gateway/disconnect", { device: "Sleepy" }), 0);
    let delivered = false;
    gw.on("message", (t) => {
      if (t === "v1/gateway/rpc") delivered = true;
    });
    const pending = emu.rpc("Sleepy", "wake", { now: true }, { timeoutMs: 3000 });
    // Nothing is pushed while the device has no sub-session: a later message's PUBACK proves it.
    assert.equal(await publishRc(gw, "v1/gateway/telemetry", { Other: [{ a: 1 }] }), 0);
    assert.equal(delivered, false);
    autoReply(gw, "Sleepy", () => "awake");
    // Any message naming the device opens the sub-session (implicit connect) and flushes.
    assert.equal(await publishRc(gw, "v1/gateway/attributes", { Sleepy: { battery: 80 } }), 0);
    assert.deepEqual(await withTimeout(pending, "pending RPC"), { status: 200, body: "awake" });
    await gw.endAsync();
  });

  test("a two-way RPC without a reply times out with 408; one never delivered gets 409", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Mute" }), 0);
    const timedOut = await emu.rpc("Mute", "ask", {}, { timeoutMs: 80 });
    assert.equal(timedOut.status, 408);
    await gw.endAsync();
    const never = await emu.rpc("Mute", "ask", {}, { timeoutMs: 50 });
    assert.equal(never.status, 409);
    // The newer /api/rpc form answers 504 for both.
    const id = emu.device("Mute")?.id ?? "";
    const v2 = await rest.call("POST", `/api/rpc/twoway/${id}`, { method: "ask", params: {}, timeout: 60 });
    assert.equal(v2.status, 504);
    // AbstractRpcController.reply: `new ResponseEntity<>(status)`, no body.
    assert.equal(v2.body, null, "empty body");
    const v1 = await rest.call("POST", `/api/plugins/rpc/twoway/${id}`, { method: "ask", params: {}, timeout: 60 });
    assert.deepEqual([v1.status, v1.body], [409, null]);
  });

  test("a late or unknown reply is ignored as stale", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/rpc", { device: "Stale", id: 42, data: { x: 1 } }), 0);
    assert.ok(emu.device("Stale"), "an RPC reply implicitly connects (creates) the device");
    // A reply without `data` is E2.
    assert.equal(await publishRc(gw, "v1/gateway/rpc", { device: "Stale", id: 1 }), 0x83);
    gw.end(true);
  });

  test("RPC to the gateway itself goes to v1/devices/me/rpc/request/{n} only while subscribed", async () => {
    const gw = await connectGateway(emu, 5);
    const pending = emu.gatewayRpc("GW", "gateway_ping", {}, { timeoutMs: 3000 });
    const req = nextMessage(gw, "v1/devices/me/rpc/request/0");
    await gw.subscribeAsync("v1/devices/me/rpc/request/+", { qos: 1 });
    assert.deepEqual((await req).body, { method: "gateway_ping", params: {} });
    gw.publish("v1/devices/me/rpc/response/0", JSON.stringify({ pong: true }), { qos: 1 });
    assert.deepEqual(await withTimeout(pending, "gateway RPC"), { status: 200, body: { pong: true } });
    // A reply that is not JSON makes the REST call answer 406.
    const id = emu.device("GW")?.id ?? "";
    const rpcCall = rest.call("POST", `/api/plugins/rpc/twoway/${id}`, { method: "text", params: null });
    const req1 = await nextMessage(gw, "v1/devices/me/rpc/request/1");
    assert.deepEqual(req1.body, { method: "text", params: null });
    gw.publish("v1/devices/me/rpc/response/1", "not json", { qos: 1 });
    assert.equal((await rpcCall).status, 406);
    await gw.endAsync();
  });

  test("rename and delete send gateway_device_renamed / gateway_device_deleted to the gateway", async () => {
    const gw = await connectGateway(emu, 5);
    await gw.subscribeAsync("v1/devices/me/rpc/request/+", { qos: 1 });
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Old Name" }), 0);
    const renamed = nextMessage(
      gw,
      "v1/devices/me/rpc/request/2",
      (b) => (b as { method?: string }).method === "gateway_device_renamed",
    );
    emu.renameDevice("Old Name", "New Name");
    assert.deepEqual((await renamed).body, { method: "gateway_device_renamed", params: { "Old Name": "New Name" } });
    const deleted = nextMessage(gw, "v1/devices/me/rpc/request/3");
    emu.deleteDevice("New Name");
    assert.deepEqual((await deleted).body, { method: "gateway_device_deleted", params: "New Name" });
    assert.equal(emu.device("New Name"), undefined);
    await gw.endAsync();
  });

  test("getSessionLimits is answered locally with the gateway shape", async () => {
    const gw = await connectGateway(emu, 5);
    const answer = nextMessage(gw, "v1/devices/me/rpc/response/7");
    assert.equal(
      await publishRc(gw, "v1/devices/me/rpc/request/7", { method: "getSessionLimits", params: { timeout: 5000 } }),
      0,
    );
    assert.deepEqual((await answer).body, {
      maxPayloadSize: 65536,
      maxInflightMessages: 100,
      rateLimits: { messages: "20:1", telemetryMessages: null, telemetryDataPoints: null },
      gatewayRateLimits: { messages: null, telemetryMessages: null, telemetryDataPoints: "100:60" },
    });
    // Any other client-side RPC gets the transport's timeout answer.
    const timeout = nextMessage(gw, "v1/devices/me/rpc/response/8");
    assert.equal(await publishRc(gw, "v1/devices/me/rpc/request/8", { method: "getTime", params: {} }), 0);
    assert.deepEqual((await timeout).body, { error: "timeout" });
    await gw.endAsync();
  });
});
