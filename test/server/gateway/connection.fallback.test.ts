// MQTT 5 is the default; a broker that refuses 5 (Aedes answers "unacceptable protocol
// version") gets MQTT 3.1.1 without anyone touching the config, and everything still works.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import { startAedes, type AedesBroker } from "../../fakes/aedes.ts";
import { startBridgeHarness, type BridgeHarness } from "../../fakes/bridgeHarness.ts";
import { until } from "../../fakes/waitFor.ts";

describe("MQTT 5 -> 3.1.1 fallback (Aedes)", () => {
  let broker: AedesBroker;
  let server: MqttClient;
  let h: BridgeHarness;
  const replies: unknown[] = [];

  before(async () => {
    broker = await startAedes();
    server = await mqtt.connectAsync({ host: "127.0.0.1", port: broker.port, protocolVersion: 4 });
    server.on("message", (_t, p) => {
      const v = JSON.parse(p.toString()) as Record<string, unknown>;
      if ("id" in v) replies.push(v);
    });
    await server.subscribeAsync("v1/gateway/rpc", { qos: 1 });
    h = await startBridgeHarness({ port: broker.port, mqttVersion: 5 });
  });

  after(async () => {
    await h?.stop();
    await server?.endAsync();
    await broker?.stop();
  });

  test("falls back to 3.1.1 by itself and serves RPC", async () => {
    await h.ready(1, 8000);
    assert.equal(h.connection.mqttVersion, 4);
    assert.equal(h.connection.status().mqttVersion, 4);
    await server.publishAsync(
      "v1/gateway/rpc",
      JSON.stringify({ device: "Test Relays", data: { id: 3, method: "getGpioStatus", params: null } }),
      { qos: 1 },
    );
    await until(() => replies.length > 0, "RPC reply over 3.1.1");
    assert.deepEqual(replies[0], { device: "Test Relays", id: 3, data: { "17": false, "27": false, "22": false } });
  });
});
