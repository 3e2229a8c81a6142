// Credentials against the emulator's ThingsBoard authentication rules: access token, basic MQTT
// credentials (client id + user name + password), and the refused cases, which must leave the
// supervisor in "authFailed" and retrying, never stopped.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type Emulator } from "../../../scripts/emulator/index.ts";
import { TbConnection, type ConnectionOptions } from "../../../server/gateway/connection.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { until } from "../../fakes/waitFor.ts";

describe("TbConnection credentials", () => {
  let emu: Emulator;
  const conns: TbConnection[] = [];
  before(async () => {
    emu = await startEmulator({
      httpPort: null,
      gateways: [
        { name: "Tok GW", accessToken: "tok-123" },
        { name: "Basic GW", clientId: "pi-7", username: "pi-user", password: "pi-pass" },
      ],
    });
  });
  after(async () => {
    for (const c of conns) await c.stop();
    await emu.stop();
  });

  const open = (o: Partial<ConnectionOptions>, mqttVersion: 4 | 5 = 5) => {
    const c = new TbConnection({
      host: "127.0.0.1",
      port: emu.mqttPort,
      mqttVersion,
      keepaliveSec: 30,
      reconnectMinMs: 100,
      reconnectMaxMs: 1000,
      log: silentLogger(),
      ...o,
    });
    conns.push(c);
    c.start();
    return c;
  };

  for (const v of [4, 5] as const) {
    test(`access token and basic credentials connect (MQTT ${v === 5 ? "5" : "3.1.1"})`, async () => {
      const a = open({ accessToken: "tok-123" }, v);
      const b = open({ clientId: "pi-7", username: "pi-user", password: "pi-pass" }, v);
      await until(() => a.connected && b.connected, "both connected");
      assert.equal(a.status().state, "connected");
    });

    test(`a wrong token or password is "authFailed", retried with backoff (MQTT ${v === 5 ? "5" : "3.1.1"})`, async () => {
      const a = open({ accessToken: "wrong" }, v);
      const b = open({ clientId: "pi-7", username: "pi-user", password: "nope" }, v);
      await until(() => a.status().state === "authFailed" && b.status().state === "authFailed", "auth failed");
      assert.match(a.status().lastError ?? "", v === 5 ? /CONNACK 134/ : /CONNACK 5/);
      await until(() => a.status().reconnects >= 2, "still retrying");
      // Between attempts the status says when the next one is due.
      await until(
        () => a.status().state === "authFailed" && (a.status().nextRetryAt ?? 0) > Date.now() - 1000,
        "next retry announced",
      );
      assert.equal(a.connected, false);
    });
  }

  test("new credentials (e.g. after provisioning) take effect at once", async () => {
    const c = open({ accessToken: "not-yet" });
    await until(() => c.status().state === "authFailed", "refused first");
    c.setCredentials({ accessToken: "tok-123" });
    await until(() => c.connected, "connected with the new token");
  });
});
