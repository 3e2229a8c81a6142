// The guard in front of MQTT.js (issue 12), byte-exact: whatever the chunking, packets under the
// limit pass unchanged and in order, a PUBLISH over it is dropped and reported once with its topic
// and acknowledged (QoS 1), and any other oversized packet closes the stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import mqttPacket from "mqtt-packet";
import { InboundSizeGuard, type OversizePublish } from "../../../server/gateway/inboundSizeGuard.ts";
import { rng } from "../../fakes/rng.ts";

function fakeSocket() {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      cb();
    },
  });
  return { socket, written };
}

const publish = (topic: string, bytes: number, qos: 0 | 1, messageId?: number) =>
  mqttPacket.generate({
    cmd: "publish",
    topic,
    payload: Buffer.alloc(bytes, 0x61),
    qos,
    dup: false,
    retain: false,
    ...(messageId ? { messageId } : {}),
  });

for (const seed of [1, 2, 3, 4, 5]) {
  test(`oversized PUBLISHes are dropped and acknowledged, the rest pass byte for byte (seed ${seed})`, async () => {
    const random = rng(seed);
    const { socket, written } = fakeSocket();
    const reports: OversizePublish[] = [];
    const guard = new InboundSizeGuard(socket, {
      maxPacketBytes: 1000,
      mqttVersion: 4,
      onOversize: (p) => reports.push(p),
    });
    const passed: Buffer[] = [];
    guard.on("data", (b: Buffer) => passed.push(b));
    const small1 = publish("v1/gateway/rpc", 900, 1, 7);
    const big1 = publish("v1/gateway/attributes", 200_000, 1, 0x1234);
    const ping = mqttPacket.generate({ cmd: "pingresp" });
    const big0 = publish("t/0", 5000, 0);
    const edge = publish("x", 1000 - 1 - 2 - 2 - 1 - 2, 1, 9); // exactly 1000 bytes
    const small2 = publish("v1/devices/me/attributes", 10, 0);
    assert.equal(edge.length, 1000);
    const stream = Buffer.concat([small1, big1, ping, big0, edge, small2]);
    for (let at = 0; at < stream.length;) {
      const n = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 70_000));
      socket.push(stream.subarray(at, at + n));
      at += n;
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(Buffer.concat(passed), Buffer.concat([small1, ping, edge, small2]));
    assert.deepEqual(reports, [
      { topic: "v1/gateway/attributes", qos: 1, bytes: big1.length },
      { topic: "t/0", qos: 0, bytes: big0.length },
    ]);
    assert.deepEqual(Buffer.concat(written), Buffer.from([0x40, 2, 0x12, 0x34]), "one PUBACK, for the QoS 1 one");
    guard.destroy();
  });
}

test("on MQTT 5 the PUBACK of a dropped PUBLISH says it was not taken (0x80)", async () => {
  const { socket, written } = fakeSocket();
  const guard = new InboundSizeGuard(socket, { maxPacketBytes: 100, mqttVersion: 5, onOversize: () => {} });
  guard.resume();
  socket.push(
    mqttPacket.generate(
      {
        cmd: "publish",
        topic: "a",
        payload: Buffer.alloc(500),
        qos: 1,
        messageId: 3,
        dup: false,
        retain: false,
        properties: {},
      },
      { protocolVersion: 5 },
    ),
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(Buffer.concat(written), Buffer.from([0x40, 3, 0, 3, 0x80]));
  guard.destroy();
});

test("an oversized packet that is not a PUBLISH closes the stream with an error", async () => {
  const { socket } = fakeSocket();
  const guard = new InboundSizeGuard(socket, {
    maxPacketBytes: 100,
    mqttVersion: 4,
    onOversize: () => assert.fail("not a publish"),
  });
  guard.resume();
  const failed = new Promise<Error>((resolve) => guard.on("error", resolve));
  socket.push(mqttPacket.generate({ cmd: "suback", messageId: 1, granted: Array.from({ length: 300 }, () => 1) }));
  const err = await failed;
  assert.match(err.message, /over the 100-byte limit/);
  assert.equal(socket.destroyed, true);
});
