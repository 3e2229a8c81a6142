// Fault test 6a, fuzzing the MQTT side: the whole appliance connected to a plain Aedes broker
// (anyone on it can publish on the topics the appliance subscribes to, like a misbehaving server
// or a broker shared with other clients). A test client publishes thousands of seeded garbage
// messages on every server->gateway topic: random bytes, broken JSON, nesting 200k deep,
// payloads near 1 MB, wrong types, "__proto__"/"constructor" keys, odd unicode, odd request ids.
// Afterwards the process is up, Object.prototype is clean, memory is bounded, and a real gateway
// RPC and a gateway-own RPC still round-trip.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Aedes } from "aedes";
import mqtt, { type MqttClient } from "mqtt";
import { rawConfig, RELAYS, startApp, summary, tempDir, type AppHarness } from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";
import { Fuzz, fuzzSeed } from "./fuzzGen.ts";

const MESSAGES = 3000;
const HEAP_BOUND = 32 * 1024 * 1024;
const SEED = fuzzSeed();

/** The topics the appliance subscribes to (GATEWAY_SUBSCRIPTIONS), as the broker matches them. */
function subscribed(topic: string): boolean {
  return (
    ["v1/gateway/rpc", "v1/gateway/attributes", "v1/gateway/attributes/response", "v1/devices/me/attributes"].includes(
      topic,
    ) || /^v1\/devices\/me\/(rpc\/request|rpc\/response|attributes\/response)\/[^/]*$/.test(topic)
  );
}

function gc(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

let broker: Aedes;
let server: Server;
let client: MqttClient;
let app: AppHarness;
const dir = tempDir("rel-fuzzmqtt-");

before(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  client = await mqtt.connectAsync({ host: "127.0.0.1", port, protocolVersion: 4, reconnectPeriod: 0 });
  // Play the server for getSessionLimits with a useless answer, so the bridge need not wait 5 s.
  await client.subscribeAsync("v1/devices/me/rpc/request/+");
  client.on("message", (topic, payload) => {
    if (topic.startsWith("v1/devices/me/rpc/request/") && payload.toString().includes("getSessionLimits")) {
      client
        .publishAsync(topic.replace("request", "response"), '{"maxPayloadSize":"lots"}')
        .catch((err: unknown) => assert.fail(`answering getSessionLimits: ${String(err)}`));
    }
  });
  app = await startApp(rawConfig(port, dir, { thingsboard: { mqttVersion: 4 } }));
  await app.ready(1, 10_000);
});

after(async () => {
  await app?.stop();
  await client?.endAsync();
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** Publish and wait for the request's answer on `replyTopic`. */
async function roundTrip(
  topic: string,
  payload: string,
  replyTopic: string,
  match: (p: unknown) => boolean,
): Promise<unknown> {
  await client.subscribeAsync(replyTopic);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer on ${replyTopic}`)), 5000);
    const on = (tp: string, p: Buffer) => {
      if (tp !== replyTopic) return;
      let v: unknown;
      try {
        v = JSON.parse(p.toString());
      } catch {
        return;
      }
      if (!match(v)) return;
      clearTimeout(t);
      client.off("message", on);
      resolve(v);
    };
    client.on("message", on);
    client.publishAsync(topic, payload, { qos: 1 }).catch(reject);
  });
}

test(
  `${MESSAGES} hostile messages on every server topic are answered or ignored, never crash (seed ${SEED})`,
  { timeout: 90_000 },
  async () => {
    const f = new Fuzz(SEED);
    const bridge = app.controller.bridge;
    assert.ok(bridge);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => {
      uncaught.push(e);
    };
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUncaught);
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    const id = () =>
      f.pick([String(f.int(1, 1e6)), "-1", "0", "1e3", "abc", "", "99999999999999999999", "1/2", "%00", "__proto__"]);
    const topics = () =>
      f.pick([
        "v1/gateway/rpc",
        "v1/gateway/attributes",
        "v1/gateway/attributes/response",
        `v1/devices/me/rpc/request/${id()}`,
        "v1/devices/me/attributes",
        `v1/devices/me/attributes/response/${id()}`,
        `v1/devices/me/rpc/response/${id()}`,
      ]);
    let bytes = 0;
    // Ids with a "/" make topics that no single-level "+" filter matches: the broker never routes them.
    let routable = 0;
    // A plain broker echoes the appliance's own publishes on topics it subscribes to; count them apart.
    let own = 0;
    let got = 0;
    broker.on("publish", (packet, c) => {
      if (c && c.id !== client.options.clientId && subscribed(packet.topic)) own++;
    });
    app.controller.connection?.onMessage(() => {
      got++;
    });
    for (let i = 0; i < MESSAGES; i++) {
      const topic = topics();
      if (subscribed(topic)) routable++;
      const payload = f.payload(RELAYS);
      bytes += payload.length;
      // QoS 1 every 50 messages paces the burst on the broker's acknowledgements.
      if (i % 50 === 49) await client.publishAsync(topic, payload, { qos: 1 });
      else client.publish(topic, payload, { qos: 0 });
    }
    await until(() => got - own >= routable, `the appliance received all ${routable} routable messages`, 30_000).catch(
      () => {},
    );
    // Let RPC handlers spawned by the fuzz finish (their replies are echoed and counted as own).
    await new Promise((r) => setTimeout(r, 500));
    const received = got - own;

    const rpc = await roundTrip(
      "v1/gateway/rpc",
      JSON.stringify({ device: RELAYS, data: { id: 424242, method: "getGpioStatus", params: null } }),
      "v1/gateway/rpc",
      (v) => typeof v === "object" && v !== null && (v as { id?: unknown }).id === 424242,
    );
    const ping = await roundTrip(
      "v1/devices/me/rpc/request/777001",
      JSON.stringify({ method: "gateway_ping", params: {} }),
      "v1/devices/me/rpc/response/777001",
      () => true,
    );
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heap0;
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);

    summary(
      `fuzz mqtt seed=${SEED}`,
      {
        produced: routable,
        delivered: Math.min(received, routable),
        lost: Math.max(0, routable - received),
        duplicates: Math.max(0, received - routable),
      },
      `sent=${MESSAGES} bytes=${bytes} malformed=${bridge.stats.malformed} rpcAnswered=${bridge.stats.rpcAnswered} heapGrowthMB=${(heapGrowth / 1048576).toFixed(1)}`,
    );
    assert.deepEqual(uncaught, [], "no uncaught exception or unhandled rejection");
    // At least every routable message: QoS 1 redelivery by the broker (at-least-once) may add a
    // copy, and an echo counted on one side of the race between the two counters may too.
    assert.ok(
      received >= routable,
      `every routable message reached the appliance and was handled (${received} of ${routable})`,
    );
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "Object.prototype not polluted");
    assert.equal(typeof Object.prototype.toString, "function");
    assert.ok(bridge.stats.malformed > MESSAGES / 10, `malformed input counted (${bridge.stats.malformed})`);
    assert.equal(
      (rpc as { data?: Record<string, unknown> }).data?.["17"] !== undefined,
      true,
      `gateway RPC answered after the fuzz: ${JSON.stringify(rpc)}`,
    );
    assert.deepEqual(ping, { code: 200, resp: "pong" }, "gateway-own RPC answered after the fuzz");
    assert.equal(app.controller.connection?.status().state, "connected");
    assert.ok(heapGrowth < HEAP_BOUND, `heap after GC grew ${(heapGrowth / 1048576).toFixed(1)} MB (bound 32)`);
  },
);
