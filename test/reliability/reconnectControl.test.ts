// Fault test 5, control after reconnect (anchors B3: gateways that stop receiving RPC and shared
// attributes after MQTT reconnects, thingsboard-gateway#1061, thingsboard#8719). Several cycles of
// a connection cut (or a short outage), each followed by a toggle_gpio RPC through the REST API
// and a shared attribute update that must drive the relay.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Emulator } from "../../scripts/emulator/index.ts";
import { RELAYS, summary, emulatorAndApp, type AppHarness } from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

let emu: Emulator;
let app: AppHarness;
emulatorAndApp("rel-ctl-", { minRpcTimeoutMs: 100, rpcTimeoutMs: 3000 }, (e, a) => {
  emu = e;
  app = a;
});

test(
  "after each of 5 reconnects, toggle_gpio and shared attribute updates reach the relays",
  { timeout: 40_000 },
  async () => {
    const gpio = app.controller.hardware.sim?.gpio;
    assert.ok(gpio, "simulated GPIO");
    const cycles = 5;
    let rpcOk = 0;
    let attrOk = 0;
    for (let i = 0; i < cycles; i++) {
      const readyBefore = app.readyCount();
      if (i % 2 === 0) emu.dropConnections();
      else {
        // A short outage: the listener is gone, so the first reconnect attempts are refused.
        await emu.pause();
        await new Promise((r) => setTimeout(r, 300));
        await emu.resume();
      }
      await app.ready(readyBefore + 1, 10_000);

      const before17: 0 | 1 = gpio.level(17);
      const r = await emu.rpc(RELAYS, "toggle_gpio", { pin: 17 }, { twoWay: true, timeoutMs: 3000 });
      assert.equal(r.status, 200, `cycle ${i}: RPC answered (${JSON.stringify(r.body)})`);
      assert.deepEqual(r.body, { success: true, pin: 17, enabled: before17 === 0 });
      assert.equal(gpio.level(17), before17 === 0 ? 1 : 0, `cycle ${i}: relay1 flipped`);
      rpcOk++;

      const want = i % 2 === 0;
      emu.setShared(RELAYS, { relay2: want });
      await until(
        () => gpio.level(27) === (want ? 1 : 0),
        `cycle ${i}: relay2 driven to ${want} by the shared attribute`,
        3000,
      );
      // The change is reported back as telemetry, through the outbox.
      await until(() => emu.latest(RELAYS).relay2?.value === want, `cycle ${i}: relay2 telemetry`, 3000);
      attrOk++;
    }
    summary(
      "rpc+attributes after reconnect",
      { produced: cycles * 2, delivered: rpcOk + attrOk, lost: cycles * 2 - rpcOk - attrOk, duplicates: 0 },
      `cycles=${cycles}`,
    );
  },
);
