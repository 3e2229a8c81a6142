// Issue 12: a message the server answers by closing the connection (here malformed JSON on MQTT
// 3.1.1, which ThingsBoard answers by closing the channel) was retried forever: reconnect after
// reconnect and no live telemetry. Now it becomes a suspect, is sent alone, and after three
// attempts alone it is set aside as a dead letter: out of the queue, kept on disk with its attempt
// count, in the event log and the gateway's deadLetters attribute, listed by the gateway RPC
// gateway_dead_letters, and put back by gateway_dead_letters_retry. The rest flows meanwhile.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { startEmulator, type Emulator } from "../../../scripts/emulator/index.ts";
import { GW_NAME, GW_TOKEN, RELAYS, rawConfig, startApp, tempDir, type AppHarness } from "../../fakes/appHarness.ts";
import { until } from "../../fakes/waitFor.ts";

let emu: Emulator;
let app: AppHarness | null = null;
const dir = tempDir("deadletters-");

before(async () => {
  emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], httpPort: null });
});
after(async () => {
  await app?.stop();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "a message the server closes the connection on ends as a dead letter after 3 attempts alone; the rest flows",
  { timeout: 60_000 },
  async () => {
    const raw = rawConfig(emu.mqttPort, `${dir}/data`, {
      thingsboard: { mqttVersion: 4, reconnectMinMs: 100, reconnectMaxMs: 1000 },
    });
    app = await startApp(raw);
    await app.ready();
    const c = app.controller;
    const events: string[] = [];
    c.bus.on(events, "eventLog", (e) => events.push(e.text));
    // A message already queued that ThingsBoard will never take: it closes the connection on it.
    c.outbox!.enqueue("v1/gateway/telemetry", "{broken", 1);
    c.bridge!.sender.kick();
    let n = 0;
    const ticker = setInterval(() => c.bus.emit("telemetry", RELAYS, { ts: Date.now(), values: { probe: ++n } }), 50);
    try {
      await until(() => c.deadLetters?.count === 1, "the poison message set aside", 30_000);
      const sentBefore = emu.telemetry(RELAYS, "probe").length;
      await until(
        () => emu.telemetry(RELAYS, "probe").length > sentBefore + 5,
        "live telemetry flowing after it",
        10_000,
      );
    } finally {
      clearInterval(ticker);
    }
    const reconnects = c.connection!.status().reconnects;
    console.log(
      `# dead letter after ${reconnects} reconnects; ${emu.telemetry(RELAYS, "probe").length} of ${n} probes delivered`,
    );
    assert.ok(reconnects <= 6, `bounded reconnects (${reconnects}): one to find it, then ${3} attempts alone at most`);
    assert.equal(c.bridge!.sender.stats.deadLettered, 1);
    assert.ok(
      events.some((t) => /set aside as a dead letter after 3 attempts/.test(t)),
      "in the dashboard's event log",
    );
    assert.equal(c.snapshot().outbox?.deadLetters, 1, "and in the outbox status the dashboard shows");
    const listed = (
      await emu.gatewayRpc(GW_NAME, "gateway_dead_letters", { limit: 5 }, { twoWay: true, timeoutMs: 5000 })
    ).body as { count: number; deadLetters: Array<{ payload: string; attempts: number; topic: string }> };
    assert.equal(listed.count, 1);
    assert.deepEqual(
      listed.deadLetters.map((d) => [d.topic, d.payload, d.attempts]),
      [["v1/gateway/telemetry", "{broken", 3]],
    );
    await until(() => emu.clientAttributes(GW_NAME).deadLetters === 1, "gateway attribute deadLetters", 5000);

    // Kept across a restart, then put back in the queue on request (and set aside again here).
    await app.stop();
    app = await startApp(raw);
    await app.ready();
    assert.equal(app.controller.deadLetters?.count, 1, "kept on disk");
    const retried = (await emu.gatewayRpc(GW_NAME, "gateway_dead_letters_retry", {}, { twoWay: true, timeoutMs: 5000 }))
      .body as { requeued: number };
    assert.equal(retried.requeued, 1);
    await until(() => app!.controller.bridge!.sender.stats.deadLettered === 1, "set aside again", 30_000);
    assert.equal(app.controller.deadLetters?.count, 1);
  },
);
