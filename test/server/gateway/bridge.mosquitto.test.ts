// The bridge against a real Mosquitto broker, the test playing ThingsBoard with its own MQTT
// client: connect messages precede telemetry, an RPC round trip, and our own publishes echoed
// back by the plain broker are recognised and ignored (not counted as malformed, not answered).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import mqtt, { type MqttClient } from "mqtt";
import { startMosquitto, type Mosquitto } from "../../fakes/mosquitto.ts";
import { startBridgeHarness, type BridgeHarness } from "../../fakes/bridgeHarness.ts";
import { until } from "../../fakes/waitFor.ts";

const DEV = "Test Relays";

describe("bridge <-> Mosquitto (the test plays the server)", () => {
  let broker: Mosquitto;
  let server: MqttClient;
  let h: BridgeHarness;
  const seen: Array<{ topic: string; payload: string }> = [];

  before(async () => {
    broker = await startMosquitto();
    server = await mqtt.connectAsync({
      host: "127.0.0.1",
      port: broker.port,
      protocolVersion: 5,
      clientId: "tb-server",
    });
    server.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
    await server.subscribeAsync(
      [
        "v1/gateway/connect",
        "v1/gateway/telemetry",
        "v1/gateway/attributes",
        "v1/gateway/rpc",
        "v1/devices/me/rpc/request/+",
      ],
      { qos: 1 },
    );
    h = await startBridgeHarness({ port: broker.port, mqttVersion: 5 });
    await h.ready(1, 8000);
  });

  after(async () => {
    await h?.stop();
    await server?.endAsync();
    await broker?.stop();
  });

  test("v1/gateway/connect for the device precedes any of its telemetry", async () => {
    h.bus.emit("telemetry", DEV, { ts: Date.now(), values: { probe: 1 } });
    await until(
      () => seen.some((m) => m.topic === "v1/gateway/telemetry" && m.payload.includes("probe")),
      "telemetry through mosquitto",
    );
    const firstConnect = seen.findIndex(
      (m) => m.topic === "v1/gateway/connect" && JSON.parse(m.payload).device === DEV,
    );
    const firstTelemetry = seen.findIndex((m) => m.topic === "v1/gateway/telemetry" && DEV in JSON.parse(m.payload));
    assert.ok(firstConnect >= 0, "connect seen");
    assert.ok(firstConnect < firstTelemetry, `connect (#${firstConnect}) before telemetry (#${firstTelemetry})`);
    assert.deepEqual(JSON.parse(seen[firstConnect]!.payload), { device: DEV, type: "GPIO Controller" });
    // Telemetry is an array of {ts, values} per device, never empty.
    const t = JSON.parse(seen[firstTelemetry]!.payload) as Record<string, unknown[]>;
    assert.ok(Array.isArray(t[DEV]) && t[DEV].length > 0);
  });

  test("RPC round trip, with the echo of our own reply ignored", async () => {
    const malformedBefore = h.bridge.stats.malformed;
    const echoesBefore = h.bridge.stats.echoes;
    const level = h.gpio.level(17);
    await server.publishAsync(
      "v1/gateway/rpc",
      JSON.stringify({ device: DEV, data: { id: 7, method: "toggle_gpio", params: { pin: 17 } } }),
      { qos: 1 },
    );
    const reply = await until(
      () => seen.find((m) => m.topic === "v1/gateway/rpc" && JSON.parse(m.payload).id === 7),
      "RPC reply",
    );
    assert.deepEqual(JSON.parse(reply.payload), {
      device: DEV,
      id: 7,
      data: { success: true, pin: 17, enabled: level === 0 },
    });
    assert.equal(h.gpio.level(17), level === 0 ? 1 : 0);
    // Mosquitto delivers our reply (and our request's echo of nothing else) back to the bridge.
    await until(() => h.bridge.stats.echoes > echoesBefore, "echo recognised");
    assert.equal(h.bridge.stats.malformed, malformedBefore, "echo not counted as malformed");
    assert.equal(h.bridge.stats.rpcReceived, 1, "echo not treated as a request");
  });

  test("client attributes echoed by the broker are not mistaken for shared attribute updates", async () => {
    let shared = 0;
    h.bus.on({}, "sharedAttributes", () => shared++);
    h.bus.emit("clientAttributes", DEV, { relay1: true });
    await until(() => seen.some((m) => m.topic === "v1/gateway/attributes"), "attributes through mosquitto");
    await until(() => h.bridge.stats.echoes >= 2, "attribute echo recognised");
    assert.equal(shared, 0);
  });
});
