// Replaying a backlog into a server that ENFORCES its rate limits (the emulator closes the
// connection on a breach, as ThingsBoard does, E5): every reading arrives, no publish carries more
// data points than the bucket holds, and the connection is never closed for it. Includes a
// backlog queued before the limits were known, which must be re-split.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type Emulator } from "../../../scripts/emulator/index.ts";
import { startBridgeHarness, testLogger, type BridgeHarness } from "../../fakes/bridgeHarness.ts";
import { until } from "../../fakes/waitFor.ts";

const DEVICES = ["Test Relays"];

describe("backlog replay within enforced server rate limits", () => {
  let emu: Emulator;
  let h: BridgeHarness;
  const publishPoints: number[] = [];

  before(async () => {
    emu = await startEmulator({
      httpPort: null,
      gateways: [{ name: "GW", accessToken: "gw-token" }],
      gatewayRateLimits: { messages: "20:1", telemetryMessages: "20:1", telemetryDataPoints: "300:1" },
      enforceRateLimits: true,
      ...(process.env.TEST_LOG ? { log: testLogger() } : {}),
    });
    emu.events.on("publish", (topic: string, payload: Buffer) => {
      if (topic !== "v1/gateway/telemetry") return;
      const v = JSON.parse(payload.toString()) as Record<string, Array<{ values: Record<string, unknown> }>>;
      publishPoints.push(
        Object.values(v)
          .flat()
          .reduce((n, r) => n + Object.keys(r.values).length, 0),
      );
    });
    // Offline from the start: the first backlog is built before any limits are known.
    await emu.pause();
    h = await startBridgeHarness({ port: emu.mqttPort, flushIntervalMs: 50, reconnectMinMs: 100 });
  });

  after(async () => {
    await h.stop();
    await emu.stop();
  });

  test("a backlog built before the limits were known is re-split and delivered without a breach", async () => {
    const t0 = Date.now() - 100_000;
    // 400 readings of 4 points in one flush: one message of 1600 points, far above the bucket (300).
    for (let i = 0; i < 400; i++)
      h.bus.emit("telemetry", DEVICES[0]!, { ts: t0 + i, values: { seq: i, a: i, b: i, c: i } });
    h.bridge.flush();
    await emu.resume();
    await until(() => emu.telemetry(DEVICES[0]!, "seq").length >= 400, "all 400 readings", 20_000);
    const seqs = emu.telemetry(DEVICES[0]!, "seq").map((r) => r.values.seq as number);
    assert.deepEqual(
      [...new Set(seqs)].sort((a, b) => a - b),
      [...Array(400).keys()],
    );
    assert.ok(h.bridge.sender.stats.resplit > 0, "re-split");
    assert.ok(Math.max(...publishPoints) <= 300, `largest publish ${Math.max(...publishPoints)} points`);
    assert.equal(emu.stats.closedForError, 0, "never closed for a rate-limit breach");
    assert.equal(h.readyCount, 1, "one session: no reconnect");
  });

  test("a second outage: the replay is merged, paced, and stays inside the limits", async () => {
    await emu.pause();
    await until(() => !h.connection.connected, "offline");
    const t0 = Date.now() - 50_000;
    for (let i = 0; i < 600; i++) {
      h.bus.emit("telemetry", DEVICES[0]!, { ts: t0 + i, values: { seq2: i, x: i } });
      if (i % 20 === 19) h.bridge.flush(); // many small queued messages, as a long outage produces
    }
    h.bridge.flush();
    const publishesBefore = publishPoints.length;
    const ready = h.readyCount;
    await emu.resume();
    await h.ready(ready + 1, 10_000);
    await until(() => emu.telemetry(DEVICES[0]!, "seq2").length >= 600, "all 600 readings", 20_000);
    const replayPublishes = publishPoints.length - publishesBefore;
    assert.ok(replayPublishes < 30, `30 queued messages merged into ${replayPublishes} publishes`);
    assert.ok(Math.max(...publishPoints.slice(publishesBefore)) <= 300);
    assert.equal(emu.stats.closedForError, 0);
    assert.equal(h.readyCount, ready + 1, "no reconnect caused by the replay");
  });
});
