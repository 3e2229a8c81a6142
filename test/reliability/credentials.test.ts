// Fault test 4, credentials refused then accepted: ThingsBoard first does not know the gateway's
// token (CONNACK 0x86 on MQTT 5), as when a user flashes the Pi before creating the gateway
// device. The appliance must say authFailed, keep retrying with growing jittered delays (MQTT.js
// alone would stop after a refused CONNACK), queue what its devices produce, and once the token
// is valid (the server restarted on the same port with the gateway created) connect and deliver
// the queue, with no restart of the appliance.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import type { ConnectionStatus } from "../../server/events.ts";
import {
  analyse,
  ArrivalRecorder,
  GW_NAME,
  GW_TOKEN,
  rawConfig,
  SeqProducer,
  startApp,
  summary,
  tempDir,
  type AppHarness,
} from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

let emu: Emulator;
let app: AppHarness;
const dir = tempDir("rel-cred-");
const statuses: Array<ConnectionStatus & { at: number }> = [];

before(async () => {
  emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: "some-other-token" }], httpPort: null });
  app = await startApp(rawConfig(emu.mqttPort, dir));
  app.controller.bus.on(statuses, "connection", (s) => {
    statuses.push({ ...s, at: Date.now() });
  });
});

after(async () => {
  await app?.stop();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "a refused token is retried with backoff, and the queue is delivered once it is accepted",
  { timeout: 30_000 },
  async () => {
    const producer = new SeqProducer(app.controller.bus, ["Cred A"], 100);
    producer.start();
    await until(() => statuses.filter((s) => s.state === "authFailed").length >= 5, "five refused attempts", 10_000);
    assert.equal(app.controller.connection?.status().state === "connected", false);
    const refused = statuses.filter((s) => s.state === "authFailed");
    assert.match(
      refused[0]?.lastError ?? "",
      /CONNACK 134/,
      "the refusal code is reported (0x86 bad user name or password)",
    );
    const delays = refused.map((s) => (s.nextRetryAt ?? 0) - s.at);
    // Equal jitter on reconnectMinMs=100 doubling to reconnectMaxMs=1000: each delay is in [step/2, step].
    for (const d of delays) assert.ok(d >= 45 && d <= 1005, `retry delay ${d} ms within [min/2, max]`);
    assert.ok(Math.max(...delays) >= 400, `the delay grew (${delays.join(", ")} ms)`);
    assert.ok(
      emu.stats.connectsAccepted === 0 && emu.stats.connectsRefused >= 5,
      "the server saw only refused attempts",
    );

    // The gateway device is created with the appliance's token: same port, as if provisioned.
    const port = emu.mqttPort;
    await emu.stop();
    emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], mqttPort: port, httpPort: null });
    const rec = new ArrivalRecorder();
    rec.attach(emu);
    await app.ready(1, 10_000);
    const queuedAtConnect = producer.count;
    await new Promise((r) => setTimeout(r, 300));
    producer.stop();
    await until(() => rec.distinct() >= producer.count, `all ${producer.count} readings delivered`, 10_000).catch(
      () => {},
    );

    const r = analyse(producer.produced, rec.arrivals);
    summary(
      "credentials refused then accepted",
      r,
      `refused_attempts=${refused.length} queued_before_accept=${queuedAtConnect} delays_ms=${delays.join("/")}`,
    );
    assert.equal(r.lost, 0, `lost seqs (first 20): ${r.lostSeqs.join(",")}`);
    assert.deepEqual(r.outOfOrder, []);
    assert.equal(r.wrongTs, 0);
    assert.equal(app.controller.connection?.status().state, "connected");
  },
);
