// The ThingsBoard connection turns off mqtt-packet's number cache (docs/benchmarks.md, footprint):
// 65,536 two-byte Buffers built on the first packet written, about 6 MB of JS heap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { clientOptions } from "../../../server/gateway/clientOptions.ts";
import { silentLogger } from "../../../server/util/logger.ts";

test("a client built with our options writes MQTT packets without a number cache, and the bytes are unchanged", async () => {
  const opts = clientOptions(
    {
      host: "127.0.0.1",
      port: 1,
      mqttVersion: 5,
      keepaliveSec: 30,
      reconnectMinMs: 1000,
      reconnectMaxMs: 2000,
      log: silentLogger(),
    },
    5,
  );
  assert.equal(opts.writeCache, false);
  // manualConnect: the client applies its options but opens no socket (nothing to close).
  mqtt.connect({ ...opts, manualConnect: true });
  assert.equal(mqttPacket.writeToStream.cacheNumbers, false);
  const chunks: Buffer[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) });
  const packet = {
    cmd: "publish",
    topic: "v1/gateway/telemetry",
    payload: "{}",
    qos: 1,
    messageId: 0x1234,
    retain: false,
    dup: false,
  } as const;
  assert.equal(mqttPacket.writeToStream(packet, sink), true);
  // writeToStream corks the stream and uncorks it on the next tick.
  await new Promise<void>((resolve) => setImmediate(resolve));
  // The same bytes the generator (which never uses the cache) gives.
  assert.deepEqual(Buffer.concat(chunks), mqttPacket.generate(packet));
  // mqtt-packet keeps the cache in numbers.js; MQTT.js resolves this same copy.
  const req = createRequire(createRequire(import.meta.url).resolve("mqtt"));
  const numbers = req("mqtt-packet/numbers.js") as { cache: Record<number, Buffer> };
  assert.equal(Object.keys(numbers.cache).length, 0);
});
