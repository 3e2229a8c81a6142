// The socket.io contract of the dashboard against a real server on port 0.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { AppSnapshot, DeviceSnapshot, EventLogEntry, ConnectionStatus } from "../../../server/events.ts";
import {
  connectAuthed,
  emitWithAck,
  login,
  nextEvent,
  startDashboard,
  VIEWER_PASSWORD,
  type Running,
} from "./harness.ts";

describe("dashboard socket contract", () => {
  let run: Running;
  let cookie: string;
  before(async () => {
    run = await startDashboard({ dashboard: { password: "correct horse", viewerPassword: VIEWER_PASSWORD } });
    cookie = await login(run.base);
  });
  after(() => run.close());

  test("a full snapshot arrives on connect", async () => {
    const { snapshot } = await connectAuthed(run, cookie);
    const snap = snapshot as AppSnapshot;
    assert.equal(snap.app.unit, "testpi");
    assert.deepEqual(
      snap.devices.map((d) => d.id),
      ["relays", "env"],
    );
    assert.equal(snap.connection.state, "connected");
  });

  test("bus events become deltas, bursts coalesced to the latest per device", async () => {
    const { socket } = await connectAuthed(run, cookie);
    const got: DeviceSnapshot[][] = [];
    socket.on("device", (batch: DeviceSnapshot[]) => got.push(batch));
    const conn = nextEvent<ConnectionStatus>(socket, "connection");
    const ev = nextEvent<EventLogEntry[]>(socket, "event");
    for (let i = 0; i < 50; i++) run.fake.update("env", { temperature: 20 + i / 10 });
    run.fake.bus.emit("connection", {
      state: "backoff",
      since: Date.now(),
      server: "x:1883",
      mqttVersion: 5,
      reconnects: 1,
      lastError: "ECONNREFUSED",
    });
    run.fake.bus.emit("eventLog", { ts: Date.now(), kind: "error", text: "broker down" });
    assert.equal((await conn).state, "backoff");
    assert.equal((await ev)[0]?.text, "broker down");
    // Wait until the last value has arrived, then check that far fewer than 50 batches were sent.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && got.flat().at(-1)?.values["temperature"] !== 24.9)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(got.flat().at(-1)?.values["temperature"], 24.9);
    assert.ok(got.length <= 5, `expected coalesced batches, got ${got.length}`);
    assert.ok(
      got.every((b) => b.length === 1),
      "one entry per device per batch",
    );
  });

  test("devicesChanged sends a fresh snapshot", async () => {
    const { socket } = await connectAuthed(run, cookie);
    run.fake.state.devices.push({
      id: "new1",
      name: "testpi new1",
      profile: "x",
      kind: "sensor",
      units: {},
      values: {},
      updatedAt: null,
      health: "offline",
      error: "not found on bus",
    });
    const snap = nextEvent<AppSnapshot>(socket, "snapshot");
    run.fake.bus.emit("devicesChanged");
    assert.ok((await snap).devices.some((d) => d.id === "new1"));
    run.fake.state.devices.pop();
  });

  test("history: viewers may read it; malformed requests are refused with a reason", async () => {
    run.fake.history.set("env", { temperature: { ts: [1000, 11_000], avg: [20, 21], min: [19, 20], max: [21, 22] } });
    const viewer = await connectAuthed(run, await login(run.base, VIEWER_PASSWORD));
    const reply = await emitWithAck<{
      ok: boolean;
      data: Array<{ device: string; range: string; series: Record<string, { avg: number[] }> }>;
    }>(viewer.socket, "history", { devices: ["env", "env", "relays"], range: "24h" });
    assert.equal(reply.ok, true);
    assert.deepEqual(
      reply.data.map((h) => [h.device, h.range]),
      [
        ["env", "24h"],
        ["relays", "24h"],
      ],
      "duplicates asked once",
    );
    assert.deepEqual(reply.data[0]?.series["temperature"]?.avg, [20, 21]);
    for (const [bad, why] of [
      [{ devices: ["env"], range: "2h" }, /range must be/],
      [{ devices: [], range: "1h" }, /devices must be/],
      [{ devices: ["../etc"], range: "1h" }, /devices must be/],
      [{ devices: ["env"], range: "1h", sql: "drop" }, /unexpected field "sql"/],
      ["env", /must be an object/],
    ] as const) {
      const r = await emitWithAck<{ ok: boolean; error?: string }>(viewer.socket, "history", bad);
      assert.equal(r.ok, false);
      assert.match(r.error ?? "", why);
    }
  });

  test("device changes: admins only, envelope validated before the config schema sees it", async () => {
    const viewer = await connectAuthed(run, await login(run.base, VIEWER_PASSWORD));
    for (const [event, body] of [
      ["deviceAdd", { device: { id: "x", kind: "gpio" } }],
      ["deviceUpdate", { id: "x", device: {} }],
      ["deviceRemove", { id: "x" }],
    ] as const) {
      const r = await emitWithAck<{ ok: boolean; error?: string }>(viewer.socket, event, body);
      assert.deepEqual([r.ok, /forbidden: the viewer role/.test(r.error ?? "")], [false, true], event);
    }
    const exported = await emitWithAck<{ ok: boolean; error?: string }>(viewer.socket, "devicesExport");
    assert.equal(exported.ok, false);
    const admin = await connectAuthed(run, cookie);
    for (const [event, body, why] of [
      ["deviceAdd", { device: "gpio" }, /device must be an object/],
      ["deviceAdd", { device: {}, extra: 1 }, /unexpected field "extra"/],
      ["deviceUpdate", { id: "../x", device: {} }, /id must be a device id/],
      ["deviceRemove", null, /request must be an object \{id\}/],
    ] as const) {
      const r = await emitWithAck<{ ok: boolean; error?: string }>(admin.socket, event, body);
      assert.equal(r.ok, false);
      assert.match(r.error ?? "", why);
    }
    const ok = await emitWithAck<{ ok: boolean; data: string }>(admin.socket, "devicesExport");
    assert.deepEqual(ok, { ok: true, data: "# No devices were added from the dashboard.\n" });
  });

  test("control reaches the dispatcher with source dashboard and acks its reply", async () => {
    const { socket } = await connectAuthed(run, cookie);
    const before = run.fake.rpcCalls.length;
    const delta = nextEvent<DeviceSnapshot[]>(socket, "device");
    const reply = await emitWithAck<{ ok: boolean; data: unknown }>(socket, "control", {
      device: "relays",
      method: "setGpioStatus",
      params: { pin: 17, enabled: true },
    });
    assert.deepEqual(reply, { ok: true, data: { "17": true } });
    assert.deepEqual(run.fake.rpcCalls.slice(before), [
      { device: "relays", method: "setGpioStatus", params: { pin: 17, enabled: true }, source: "dashboard" },
    ]);
    assert.equal((await delta)[0]?.values["Pump"], true);
  });

  test("dispatcher error replies come back as ok:false with the error text", async () => {
    const { socket } = await connectAuthed(run, cookie);
    const reply = await emitWithAck<{ ok: boolean; error: string }>(socket, "control", {
      device: "relays",
      method: "toggle_gpio",
      params: { pin: 27 },
    });
    assert.equal(reply.ok, false);
    assert.equal(reply.error, "pin 27 is not an output");
  });

  test("bad payloads are rejected with an error, never dispatched", async () => {
    const { socket } = await connectAuthed(run, cookie);
    const before = run.fake.rpcCalls.length;
    const cases: [unknown, RegExp][] = [
      ["toggle", /must be an object/],
      [null, /must be an object/],
      [{ device: "relays", method: "reboot" }, /method must be one of/],
      [{ device: "", method: "toggle_gpio", params: { pin: 17 } }, /device must be/],
      [{ device: "relays", method: "toggle_gpio", params: { pin: 99 } }, /pin must be an integer 0-27/],
      [{ device: "relays", method: "toggle_gpio", params: { pin: "17" } }, /pin must be an integer/],
      [
        { device: "relays", method: "setGpioStatus", params: { pin: 17, enabled: "yes" } },
        /enabled must be true or false/,
      ],
      [{ device: "relays", method: "toggle_gpio", params: { pin: 17, extra: 1 } }, /unexpected field "extra"/],
      [{ device: "relays", method: "toggle_gpio", params: { pin: 17 }, __proto__x: 1 }, /unexpected field/],
    ];
    for (const [payload, expected] of cases) {
      const reply = await emitWithAck<{ ok: boolean; error: string }>(socket, "control", payload);
      assert.equal(reply.ok, false, JSON.stringify(payload));
      assert.match(reply.error, expected);
    }
    // Without an ack callback the refusal arrives as an `error` event.
    const err = nextEvent<string>(socket, "error");
    socket.emit("control", 42);
    assert.match(await err, /must be an object/);
    assert.equal(run.fake.rpcCalls.length, before);
    assert.equal(socket.connected, true, "bad input does not cost the connection");
  });

  test("a dispatcher that rejects still gets an answer", async () => {
    const { socket } = await connectAuthed(run, cookie);
    const original = run.fake.rpcHandler;
    run.fake.rpcHandler = () => Promise.reject(new Error("driver exploded"));
    try {
      const reply = await emitWithAck<{ ok: boolean; error: string }>(socket, "control", {
        device: "relays",
        method: "getGpioStatus",
      });
      assert.deepEqual(reply, { ok: false, error: "driver exploded" });
    } finally {
      run.fake.rpcHandler = original;
    }
  });

  test("per-socket rate limit answers with an error", async () => {
    const { socket } = await connectAuthed(run, cookie);
    const replies = await Promise.all(
      Array.from({ length: 15 }, () =>
        emitWithAck<{ ok: boolean; error?: string }>(socket, "control", { device: "relays", method: "getGpioStatus" }),
      ),
    );
    const limited = replies.filter((r) => !r.ok);
    assert.ok(limited.length >= 4, `expected refusals, got ${limited.length}`);
    assert.match(limited[0]?.error ?? "", /rate limited/);
    assert.ok(replies.filter((r) => r.ok).length >= 10);
  });

  test("viewer sees the live state but cannot control, scan or claim", async () => {
    const viewerCookie = await login(run.base, VIEWER_PASSWORD);
    const { socket, snapshot } = await connectAuthed(run, viewerCookie);
    assert.equal((snapshot as AppSnapshot).devices.length, 2);
    const before = run.fake.rpcCalls.length;
    const reply = await emitWithAck<{ ok: boolean; error: string }>(socket, "control", {
      device: "relays",
      method: "toggle_gpio",
      params: { pin: 17 },
    });
    assert.equal(reply.ok, false);
    assert.match(reply.error, /forbidden: the viewer role cannot control/);
    assert.match((await emitWithAck<{ error: string }>(socket, "scan")).error, /forbidden/);
    assert.match((await emitWithAck<{ error: string }>(socket, "claim", {})).error, /forbidden/);
    assert.equal(run.fake.rpcCalls.length, before);
  });

  test("scan returns identified chips and broadcasts them", async () => {
    const { socket } = await connectAuthed(run, cookie);
    const broadcast = nextEvent(socket, "i2c");
    const reply = await emitWithAck<{ ok: boolean; data: { address: number; chip: string | null }[] }>(socket, "scan");
    assert.equal(reply.ok, true);
    assert.deepEqual(
      reply.data.map((e) => [e.address, e.chip]),
      [
        [0x76, "bme280"],
        [0x44, "sht31"],
        [0x50, null],
      ],
    );
    assert.deepEqual(await broadcast, reply.data);
    // A client that sends a payload with the request still gets its answer (found by the fuzz test).
    const withPayload = await emitWithAck<{ ok: boolean }>(socket, "scan", { bus: 1 });
    assert.equal(withPayload.ok, true);
  });

  test("claim opens a window and announces it", async () => {
    const { socket } = await connectAuthed(run, cookie);
    const announced = nextEvent<{ device: string; until: number }>(socket, "claim");
    const reply = await emitWithAck<{ ok: boolean; data: { devices: string[] } }>(socket, "claim", {
      devices: ["env"],
    });
    assert.deepEqual(reply.data.devices, ["env"]);
    assert.equal((await announced).device, "env");
    assert.deepEqual(run.fake.claimCalls.at(-1), ["env"]);
    const bad = await emitWithAck<{ ok: boolean; error: string }>(socket, "claim", { devices: "env" });
    assert.match(bad.error, /devices must be a list/);
  });
});
