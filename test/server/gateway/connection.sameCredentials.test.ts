// Two appliances with the same access token against the emulator (issue 13). ThingsBoard keeps one
// session per device and closes the OLDER one when a newer one connects (reference §1.3,
// actors.max_concurrent_sessions_per_device = 1, DefaultTransportService / DeviceActorMessageProcessor;
// SESSION_TAKEN_OVER 0x8E on MQTT 5, a bare close on 3.1.1), as scripts/emulator/core.ts onAccepted
// does. Each reconnects and throws the other out; before, both only logged "connection lost".
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../../scripts/emulator/index.ts";
import { GW_NAME, GW_TOKEN, rawConfig, startApp, tempDir, type AppHarness } from "../../fakes/appHarness.ts";
import { until } from "../../fakes/waitFor.ts";

let emu: Emulator;
const dir = tempDir("same-credentials-");
const apps: AppHarness[] = [];

before(async () => {
  emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }] });
});
after(async () => {
  for (const a of apps) await a.stop();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function twoOnOneToken(mqttVersion: 4 | 5): Promise<[AppHarness, AppHarness]> {
  const start = (name: string) =>
    startApp(
      rawConfig(emu.mqttPort, join(dir, `${name}-v${mqttVersion}`), {
        thingsboard: { mqttVersion, reconnectMinMs: 200, reconnectMaxMs: 1000 },
      }),
    );
  const a = await start("a");
  apps.push(a);
  await a.ready();
  const b = await start("b");
  apps.push(b);
  return [a, b];
}

const warnings = (app: AppHarness, re: RegExp) => app.records.filter((r) => r.level === "warn" && re.test(r.msg));

test(
  "MQTT 3.1.1: sessions closed right after they open are named as shared credentials",
  { timeout: 60_000 },
  async () => {
    const [a, b] = await twoOnOneToken(4);
    const hint =
      /^ThingsBoard at 127\.0\.0\.1:\d+ closes the session right after it opens \(\d+ times in a row\): another client may be using the same credentials: a second gateway with this access token, or this one running twice/;
    await until(
      () => warnings(a, hint).length > 0 && warnings(b, hint).length > 0,
      "both appliances warn about shared credentials",
      45_000,
    );
    for (const app of [a, b]) {
      assert.equal(warnings(app, hint).length, 1, "said once per run, not on every flap");
      const status = app.controller.connection?.status();
      if (status?.state !== "connected")
        assert.match(status?.lastError ?? "", hint, "the status names the cause while it lasts");
    }
    await b.stop();
    apps.splice(apps.indexOf(b), 1);
    await a.stop();
    apps.splice(apps.indexOf(a), 1);
  },
);

test(
  "MQTT 5: ThingsBoard's SESSION_TAKEN_OVER names the cause on the first takeover",
  { timeout: 60_000 },
  async () => {
    const [a] = await twoOnOneToken(5);
    const hint =
      /^ThingsBoard at 127\.0\.0\.1:\d+ closed the session with DISCONNECT SESSION_TAKEN_OVER 0x8e: another client is connected with the same credentials/;
    await until(() => warnings(a, hint).length > 0, "the first appliance, taken over, says why", 30_000);
    assert.ok(
      warnings(a, /^connection to 127\.0\.0\.1:\d+ lost \(server sent DISCONNECT SESSION_TAKEN_OVER 0x8e\)$/).length >=
        1,
    );
  },
);
