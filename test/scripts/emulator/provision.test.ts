import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { Emulator } from "../../../scripts/emulator/index.ts";
import { closed, connectClient, nextMessage, publishRc, startTestEmulator, VERSIONS } from "./helpers.ts";

async function provision(
  emu: Emulator,
  v: 4 | 5,
  request: Record<string, unknown>,
): Promise<{ client: MqttClient; body: unknown }> {
  const client = await connectClient(emu, v, { username: "provision" });
  await client.subscribeAsync("/provision/response", { qos: 1 });
  const answer = nextMessage(client, "/provision/response");
  assert.equal(await publishRc(client, "/provision/request", request), 0);
  return { client, body: (await answer).body };
}

describe("emulator: provisioning", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu.stop());

  for (const v of VERSIONS) {
    test(`v${v === 5 ? 5 : "3.1.1"}: a good key creates a gateway device whose token then connects`, async () => {
      const name = `Provisioned GW ${v}`;
      const { client, body } = await provision(emu, v, {
        provisionDeviceKey: "pkey",
        provisionDeviceSecret: "psecret",
        deviceName: ` ${name} `,
        gateway: true,
      });
      const ans = body as { status: string; credentialsType: string; credentialsValue: string };
      assert.equal(ans.status, "SUCCESS");
      assert.equal(ans.credentialsType, "ACCESS_TOKEN");
      assert.equal(typeof ans.credentialsValue, "string");
      assert.deepEqual(Object.keys(ans).sort(), ["credentialsType", "credentialsValue", "status"]);
      assert.equal(emu.device(name)?.gateway, true, "the name is trimmed and the gateway flag kept");
      await client.endAsync();
      const gw = await connectClient(emu, v, { username: ans.credentialsValue });
      assert.equal(await publishRc(gw, "v1/gateway/connect", { device: `Child of ${v}` }), 0);
      assert.ok(emu.device(`Child of ${v}`));
      await gw.endAsync();
    });
  }

  test("a wrong key or secret answers NOT_FOUND", async () => {
    const { client, body } = await provision(emu, 5, {
      provisionDeviceKey: "pkey",
      provisionDeviceSecret: "wrong",
      deviceName: "Nope",
    });
    assert.deepEqual(body, { errorMsg: "Provision data was not found!", status: "NOT_FOUND" });
    assert.equal(emu.device("Nope"), undefined);
    await client.endAsync();
  });

  test("an existing name answers FAILURE", async () => {
    const { client, body } = await provision(emu, 5, {
      provisionDeviceKey: "pkey",
      provisionDeviceSecret: "psecret",
      deviceName: "GW",
    });
    assert.deepEqual(body, { errorMsg: "Failed to provision device!", status: "FAILURE" });
    await client.endAsync();
  });

  test("MQTT_BASIC credentials come back as an object and authenticate", async () => {
    const { client, body } = await provision(emu, 5, {
      provisionDeviceKey: "pkey",
      provisionDeviceSecret: "psecret",
      deviceName: "Basic Dev",
      credentialsType: "MQTT_BASIC",
      clientId: "bd-cid",
      username: "bd-user",
      password: "bd-pass",
    });
    assert.deepEqual(body, {
      credentialsValue: { clientId: "bd-cid", userName: "bd-user", password: "bd-pass" },
      credentialsType: "MQTT_BASIC",
      status: "SUCCESS",
    });
    await client.endAsync();
    const dev = await connectClient(emu, 4, { clientId: "bd-cid", username: "bd-user", password: "bd-pass" });
    assert.equal(await publishRc(dev, "v1/devices/me/telemetry", { t: 1 }), 0);
    assert.equal(emu.telemetry("Basic Dev").length, 1);
    await dev.endAsync();
  });

  test("a provision session may not publish elsewhere (0x90 and close) nor subscribe elsewhere", async () => {
    const client = await connectClient(emu, 5, { clientId: "provision" });
    const err = await client.subscribeAsync("v1/devices/me/attributes", { qos: 1 }).then(
      () => assert.fail("subscription must be refused"),
      (e: unknown) => e as { packet?: { granted?: unknown[] } },
    );
    assert.deepEqual(err.packet?.granted, [0x8f]);
    const gone = closed(client);
    assert.equal(await publishRc(client, "v1/devices/me/telemetry", { t: 1 }), 0x90);
    await gone;
  });

  test("a request without the key pair gets 0x83 and a close", async () => {
    const client = await connectClient(emu, 5, { username: "provision" });
    const gone = closed(client);
    assert.equal(await publishRc(client, "/provision/request", { deviceName: "X" }), 0x83);
    await gone;
  });
});
