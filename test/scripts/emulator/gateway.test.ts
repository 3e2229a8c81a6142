import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Emulator } from "../../../scripts/emulator/index.ts";
import {
  closed,
  connectClient,
  connectGateway,
  nextMessage,
  PLAIN_TOKEN,
  publishRc,
  startTestEmulator,
  VERSIONS,
  withTimeout,
} from "./helpers.ts";

describe("emulator: gateway topics", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu.stop());

  test("telemetry: ts form kept, plain items get server time, nulls dropped, numeric strings cast", async () => {
    const gw = await connectGateway(emu, 5);
    const seen = new Promise<unknown[]>((resolve) =>
      emu.events.once("telemetry", (_n: string, r: unknown[]) => resolve(r)),
    );
    const t0 = Date.now();
    const rc = await publishRc(gw, "v1/gateway/telemetry", {
      "Sensor T": [
        { ts: 1000, values: { temp: 21.5, gone: null } },
        { hum: "40.5", label: "on" },
      ],
    });
    assert.equal(rc, 0);
    assert.equal((await withTimeout(seen, "telemetry event")).length, 2);
    const recs = emu.telemetry("Sensor T");
    assert.deepEqual(recs[0], { ts: 1000, values: { temp: 21.5 } });
    assert.deepEqual(recs[1]?.values, { hum: 40.5, label: "on" });
    assert.ok((recs[1]?.ts ?? 0) >= t0);
    assert.equal(emu.device("Sensor T")?.type, "default");
    assert.equal(emu.device("Sensor T")?.lastConnectedGateway, emu.device("GW")?.id);
    assert.deepEqual(emu.telemetry("Sensor T", "temp"), [{ ts: 1000, values: { temp: 21.5 } }]);
    assert.equal(emu.latest("Sensor T")["hum"]?.value, 40.5);
    await gw.endAsync();
  });

  test("connect keeps the given type; a later connect never changes it", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Relay 1", type: "relay" }), 0);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Relay 1", type: "other" }), 0);
    assert.equal(emu.device("Relay 1")?.type, "relay");
    await gw.endAsync();
  });

  for (const v of VERSIONS) {
    test(`malformed JSON: ${v === 5 ? "v5 gets PUBACK 0x99 and stays" : "3.1.1 is closed"}`, async () => {
      const gw = await connectGateway(emu, v);
      if (v === 5) {
        assert.equal(await publishRc(gw, "v1/gateway/telemetry", "{not json"), 0x99);
        assert.equal(await publishRc(gw, "v1/gateway/telemetry", { Ok: [{ a: 1 }] }), 0);
        await gw.endAsync();
      } else {
        const gone = closed(gw);
        gw.publish("v1/gateway/telemetry", "{not json", { qos: 1 });
        await gone;
      }
    });
  }

  test("telemetry [] for a device is never acked, but later messages are", async () => {
    const gw = await connectGateway(emu, 5);
    let emptyAcked = false;
    gw.publish("v1/gateway/telemetry", JSON.stringify({ "Empty Dev": [] }), { qos: 1 }, () => {
      emptyAcked = true;
    });
    // The emulator answers in order, so once this later PUBACK is in, the first one never will be.
    assert.equal(await publishRc(gw, "v1/gateway/telemetry", { "Other Dev": [{ x: 1 }] }), 0);
    assert.equal(emptyAcked, false);
    assert.ok(emu.device("Empty Dev"), "the empty entry still creates the device");
    gw.end(true);
  });

  test("non-array device values are dropped; none left is E2 (PUBACK 0x83 then close)", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/telemetry", { "Obj Dev": { t: 1 }, "Arr Dev": [{ t: 2 }] }), 0);
    assert.equal(emu.device("Obj Dev"), undefined);
    assert.equal(emu.telemetry("Arr Dev").length, 1);
    const gone = closed(gw);
    const rc = publishRc(gw, "v1/gateway/telemetry", { "Obj Dev": { t: 1 } });
    assert.equal(await rc, 0x83);
    await gone;
  });

  test("a non-object item is E3: v5 PUBACK 0x99; 3.1.1 closed without PUBACK", async () => {
    const g5 = await connectGateway(emu, 5);
    assert.equal(await publishRc(g5, "v1/gateway/telemetry", { E3: [5] }), 0x99);
    await g5.endAsync();
    const g3 = await connectGateway(emu, 4);
    const gone = closed(g3);
    let acked = false;
    g3.publish("v1/gateway/telemetry", JSON.stringify({ E3: [5] }), { qos: 1 }, (err) => {
      acked = !err;
    });
    await gone;
    assert.equal(acked, false);
  });

  test("client attributes are stored per device with one PUBACK", async () => {
    const gw = await connectGateway(emu, 4);
    assert.equal(
      await publishRc(gw, "v1/gateway/attributes", {
        "Attr A": { fw: "1.2", n: null },
        "Attr B": { on: true },
        skip: 3,
      }),
      0,
    );
    assert.deepEqual(emu.clientAttributes("Attr A"), { fw: 1.2 });
    assert.deepEqual(emu.clientAttributes("Attr B"), { on: true });
    await gw.endAsync();
  });

  test("attribute requests answer value / values / neither by the number of keys requested", async () => {
    const gw = await connectGateway(emu, 5);
    await gw.subscribeAsync("v1/gateway/attributes/response", { qos: 1 });
    assert.equal(await publishRc(gw, "v1/gateway/attributes", { Req: { c1: "client-one" } }), 0);
    emu.setShared("Req", { a: 1, b: "two" });
    let id = 0;
    const ask = async (req: Record<string, unknown>): Promise<unknown> => {
      const rid = ++id;
      const answer = nextMessage(gw, "v1/gateway/attributes/response", (b) => (b as { id?: number }).id === rid);
      assert.equal(
        await publishRc(gw, "v1/gateway/attributes/request", { id: rid, device: "Req", client: false, ...req }),
        0,
      );
      return (await answer).body;
    };
    assert.deepEqual(await ask({ key: "a" }), { id: 1, device: "Req", value: 1 });
    assert.deepEqual(await ask({ keys: ["b"] }), { id: 2, device: "Req", value: "two" });
    assert.deepEqual(await ask({ keys: ["a", "b"] }), { id: 3, device: "Req", values: { a: 1, b: "two" } });
    assert.deepEqual(await ask({ keys: ["a", "missing"] }), { id: 4, device: "Req", values: { a: 1 } });
    assert.deepEqual(await ask({ keys: ["missing"] }), { id: 5, device: "Req" });
    assert.deepEqual(await ask({ keys: ["m1", "m2"] }), { id: 6, device: "Req" });
    // keys:[] -> every client attribute (one: `value`) then every shared one (two: `values`).
    assert.deepEqual(await ask({ keys: [] }), {
      id: 7,
      device: "Req",
      value: "client-one",
      values: { a: 1, b: "two" },
    });
    // `key` takes precedence over `keys`; client:true reads the client scope.
    assert.deepEqual(await ask({ key: "c1", keys: ["a", "b"], client: true }), {
      id: 8,
      device: "Req",
      value: "client-one",
    });
    // Field order is id, device, then the values.
    const raw = nextMessage(gw, "v1/gateway/attributes/response");
    await publishRc(gw, "v1/gateway/attributes/request", { id: 9, device: "Req", client: false, key: "a" });
    assert.deepEqual(Object.keys((await raw).body as object), ["id", "device", "value"]);
    // A missing `client` is E2: PUBACK 0x83 and close.
    const gone = closed(gw);
    assert.equal(await publishRc(gw, "v1/gateway/attributes/request", { id: 10, device: "Req", keys: ["a"] }), 0x83);
    await gone;
  });

  test("shared attribute updates and deletions are pushed to the gateway holding the device", async () => {
    const gw = await connectGateway(emu, 4);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Shared Dev" }), 0);
    const upd = nextMessage(gw, "v1/gateway/attributes");
    emu.setShared("Shared Dev", { interval: 5000 });
    const u = await upd;
    assert.deepEqual(u.body, { device: "Shared Dev", data: { interval: 5000 } });
    assert.equal(u.qos, 1, "never subscribed, so the server publishes at QoS 1");
    const del = nextMessage(gw, "v1/gateway/attributes");
    emu.deleteShared("Shared Dev", ["interval"]);
    assert.deepEqual((await del).body, { device: "Shared Dev", data: { deleted: ["interval"] } });
    await gw.endAsync();
  });

  test("gateway topics from a non-gateway device get no PUBACK; unknown gateway topics get 0x90", async () => {
    const plain = await connectClient(emu, 5, { username: PLAIN_TOKEN });
    let acked = false;
    plain.publish("v1/gateway/telemetry", JSON.stringify({ Sneaky: [{ x: 1 }] }), { qos: 1 }, () => {
      acked = true;
    });
    assert.equal(await publishRc(plain, "v1/devices/me/telemetry", { x: 2 }), 0);
    assert.equal(acked, false);
    assert.equal(emu.device("Sneaky"), undefined);
    assert.equal(emu.latest("Plain")["x"]?.value, 2);
    plain.end(true);
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/unknown", { a: 1 }), 0x90);
    assert.equal(await publishRc(gw, "v1/devices/me/nowhere", { a: 1 }), 0x90);
    assert.ok(gw.connected);
    await gw.endAsync();
  });

  for (const v of VERSIONS) {
    test(`v${v === 5 ? 5 : "3.1.1"}: forbidden subscription filters are refused, exact ones granted at most QoS 1`, async () => {
      const gw = await connectGateway(emu, v);
      const err = await gw
        .subscribeAsync({
          "v1/gateway/#": { qos: 1 },
          "v1/gateway/rpc": { qos: 2 },
          "v1/gateway/disconnect": { qos: 0 },
        })
        .then(
          () => assert.fail("a refused filter must fail the subscribe"),
          (e: unknown) => e as { packet?: { granted?: unknown[] } },
        );
      // SUBACK codes in request order: refused, min(2, 1), refused.
      const refused = v === 5 ? 0x8f : 0x80;
      assert.deepEqual(err.packet?.granted, [refused, 1, refused]);
      await gw.endAsync();
    });
  }

  test("server publishes take packet ids from one per-connection counter starting at 1", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Ids Dev" }), 0);
    const ids: number[] = [];
    const two = withTimeout(
      new Promise<void>((resolve) => {
        gw.on("message", (_t, _p, packet) => {
          ids.push(packet.messageId ?? -1);
          if (ids.length === 2) resolve();
        });
      }),
      "two server publishes",
    );
    emu.setShared("Ids Dev", { a: 1 });
    const rpc = emu.rpc("Ids Dev", "m", {}, { twoWay: false });
    await two;
    assert.deepEqual(ids, [1, 2]);
    assert.equal((await rpc).status, 200);
    await gw.endAsync();
  });

  test("disconnect ends the sub-session without creating devices", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/disconnect", { device: "Never Seen" }), 0);
    assert.equal(emu.device("Never Seen"), undefined);
    await gw.endAsync();
  });
});
