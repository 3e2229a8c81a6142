import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import type { Emulator } from "../../../scripts/emulator/index.ts";
import {
  closed,
  connectClient,
  connectGateway,
  GW_TOKEN,
  publishRc,
  startTestEmulator,
  VERSIONS,
  withTimeout,
} from "./helpers.ts";

/** The CONNACK error code MQTT.js reports for a refused connect. */
async function refusedCode(p: Promise<unknown>): Promise<number> {
  try {
    const c = await p;
    (c as { end(force: boolean): void }).end(true);
  } catch (err) {
    return (err as { code: number }).code;
  }
  assert.fail("connect was accepted");
}

/** Raw TCP client: resolves once the server closes the socket. */
function rawClose(port: number, bytes: Buffer[]): Promise<Buffer> {
  return withTimeout(
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const sock = net.connect(port, "127.0.0.1", () => {
        for (const b of bytes) sock.write(b);
      });
      sock.on("data", (d) => chunks.push(d));
      sock.on("error", reject);
      sock.on("close", () => resolve(Buffer.concat(chunks)));
    }),
    "raw socket close",
  );
}

describe("emulator: CONNECT", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator({ maxPayloadSize: 1024 });
  });
  after(() => emu.stop());

  // §1.2: the refusal code depends on which credential fields were present.
  const cases = [
    { what: "wrong token", opts: { username: "nope" }, v5: 0x86, v3: 5 },
    {
      what: "token with a wrong basic password",
      opts: { clientId: "gw-cid", username: "gw-user", password: "bad" },
      v5: 0x86,
      v3: 5,
    },
    { what: "unknown clientId, no credentials", opts: { clientId: "some-client" }, v5: 0x85, v3: 2 },
    { what: "no credentials, blank clientId", opts: { clientId: "" }, v5: 0x87, v3: 5 },
  ];
  for (const v of VERSIONS) {
    for (const c of cases) {
      test(`v${v === 5 ? 5 : "3.1.1"}: ${c.what} gets CONNACK ${v === 5 ? c.v5 : c.v3}`, async () => {
        const code = await refusedCode(connectClient(emu, v, c.opts));
        assert.equal(code, v === 5 ? c.v5 : c.v3);
      });
    }
  }

  test("a token works with any clientId and password; basic credentials match all three fields", async () => {
    const a = await connectClient(emu, 5, { username: GW_TOKEN, password: "ignored", clientId: "anything" });
    const b = await connectClient(emu, 4, { clientId: "gw-cid", username: "gw-user", password: "gw-pass" });
    assert.ok(a.connected && b.connected);
    await Promise.all([a.endAsync(), b.endAsync()]);
    assert.ok(emu.stats.connectsRefused >= 8);
  });

  test("sessionPresent is !clean although nothing is kept", async () => {
    for (const clean of [false, true]) {
      const c = mqtt.connect(`mqtt://127.0.0.1:${emu.mqttPort}`, {
        username: GW_TOKEN,
        clean,
        clientId: "persist-me",
        reconnectPeriod: 0,
      });
      const connack = await withTimeout(
        new Promise<{ sessionPresent: boolean }>((resolve) => c.once("connect", resolve)),
        "CONNACK",
      );
      assert.equal(connack.sessionPresent, !clean);
      await c.endAsync();
    }
  });

  test("garbage bytes close that connection only; other clients keep being served", async () => {
    const gw = await connectGateway(emu, 5);
    const before = emu.stats.malformed;
    await rawClose(emu.mqttPort, [Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00])]);
    await rawClose(emu.mqttPort, [Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]);
    assert.ok(emu.stats.malformed >= before + 1);
    assert.equal(await publishRc(gw, "v1/gateway/telemetry", { "Garbage Survivor": [{ t: 1 }] }), 0);
    assert.equal(emu.telemetry("Garbage Survivor").length, 1);
    await gw.endAsync();
  });

  test("a packet above maxPayloadSize closes the connection", async () => {
    const gw = await connectGateway(emu, 5);
    const gone = closed(gw);
    gw.publish("v1/gateway/telemetry", JSON.stringify({ Big: [{ blob: "x".repeat(2000) }] }), { qos: 1 });
    await gone;
    assert.equal(emu.device("Big"), undefined);
  });

  test("a first packet other than CONNECT is refused with a close", async () => {
    const ping = mqttPacket.generate({ cmd: "pingreq" });
    const answer = await rawClose(emu.mqttPort, [ping]);
    assert.equal(answer.length, 0);
  });

  test("a newer session for the same device takes over the older one (v5 DISCONNECT 0x8E)", async () => {
    const first = await connectGateway(emu, 5);
    const reason = new Promise<number | undefined>((resolve) => first.once("disconnect", (p) => resolve(p.reasonCode)));
    const second = await connectGateway(emu, 5);
    assert.equal(await withTimeout(reason, "takeover DISCONNECT"), 0x8e);
    await second.endAsync();
    first.end(true);
  });

  test("dropConnections closes clients but keeps listening", async () => {
    const gw = await connectGateway(emu, 4);
    const gone = closed(gw);
    emu.dropConnections();
    await gone;
    const again = await connectGateway(emu, 4);
    assert.ok(again.connected);
    await again.endAsync();
  });

  test("pause refuses connections, resume listens again on the same port", async () => {
    const port = emu.mqttPort;
    const gw = await connectGateway(emu, 5);
    const gone = closed(gw);
    await emu.pause();
    await gone;
    await assert.rejects(connectGateway(emu, 5, { connectTimeout: 500 }));
    await emu.resume();
    assert.equal(emu.mqttPort, port);
    const back = await connectGateway(emu, 5);
    assert.equal(await publishRc(back, "v1/gateway/connect", { device: "After Outage" }), 0);
    await back.endAsync();
  });
});
