// The emulator's OTA packages against ThingsBoard's source (thingsboard/thingsboard):
// OtaPackageController.java (REST paths), OtaPackageDataValidator / AbstractHasOtaPackageValidator
// (what is refused), DefaultOtaPackageStateService (sw_* shared attributes, sw_state QUEUED),
// MqttTopics.java + MqttTransportHandler.getOtaPackageCallback / sendOtaPackage(Error) (chunk
// protocol), CaffeineOtaPackageCache.get (chunk slicing), BaseOtaPackageService.generateChecksum.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { MqttClient } from "mqtt";
import type { Emulator } from "../../../scripts/emulator/index.ts";
import { generateChecksum } from "../../../scripts/emulator/otaChecksum.ts";
import {
  closed,
  connectGateway,
  nextMessage,
  restLogin,
  startTestEmulator,
  withTimeout,
  type RestClient,
} from "./helpers.ts";

const DATA = Buffer.from(Array.from({ length: 2500 }, (_, i) => (i * 7) & 0xff));

async function upload(
  emu: Emulator,
  token: string,
  id: string,
  data: Buffer,
  query: string,
): Promise<{ status: number; body: unknown }> {
  const form = new FormData();
  form.append("file", new Blob([data], { type: "application/gzip" }), "app.tar.gz");
  const res = await fetch(`http://127.0.0.1:${emu.httpPort ?? 0}/api/otaPackage/${id}?${query}`, {
    method: "POST",
    headers: { "x-authorization": `Bearer ${token}` },
    body: form,
  });
  return { status: res.status, body: await res.json() };
}

async function token(emu: Emulator): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${emu.httpPort ?? 0}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "tenant@thingsboard.org", password: "tenant" }),
  });
  return ((await r.json()) as { token: string }).token;
}

/** Next raw message on a topic. */
function nextRaw(c: MqttClient, topic: string): Promise<Buffer> {
  return withTimeout(
    new Promise((resolve) => {
      const on = (t: string, payload: Buffer): void => {
        if (t !== topic) return;
        c.off("message", on);
        resolve(payload);
      };
      c.on("message", on);
    }),
    `message on ${topic}`,
  );
}

describe("emulator: OTA packages (ThingsBoard OtaPackageController + MQTT chunk protocol)", () => {
  let emu: Emulator;
  let rest: RestClient;
  let tok: string;
  let gwDevice: { id: { id: string }; name: string; type: string; deviceProfileId: { id: string } };
  let pkgId: string;
  before(async () => {
    emu = await startTestEmulator({ maxPayloadSize: 1024 });
    rest = await restLogin(emu);
    tok = await token(emu);
    gwDevice = (await rest.call("GET", "/api/tenant/devices?deviceName=GW")).body as typeof gwDevice;
  });
  after(() => emu.stop());

  test("a package is created, its data uploaded with a checked checksum, and refused when wrong", async () => {
    assert.equal((await rest.call("POST", "/api/otaPackage", { title: "app", type: "SOFTWARE" })).status, 400);
    const bad = await rest.call("POST", "/api/otaPackage", {
      title: "app",
      version: "1",
      type: "SOFTWARE",
      deviceProfileId: { entityType: "DEVICE_PROFILE", id: "00000000-0000-0000-0000-000000000000" },
    });
    assert.equal(bad.status, 400);
    const created = await rest.call("POST", "/api/otaPackage", {
      title: "app",
      version: "1.1.0",
      type: "SOFTWARE",
      deviceProfileId: gwDevice.deviceProfileId,
    });
    assert.equal(created.status, 200);
    pkgId = (created.body as { id: { id: string } }).id.id;
    assert.equal(
      (
        await rest.call("POST", "/api/otaPackage", {
          title: "app",
          version: "1.1.0",
          type: "SOFTWARE",
          deviceProfileId: gwDevice.deviceProfileId,
        })
      ).status,
      400,
    );
    const wrong = await upload(emu, tok, pkgId, DATA, "checksumAlgorithm=SHA256&checksum=00");
    assert.deepEqual([wrong.status, (wrong.body as { message: string }).message], [400, "Wrong otaPackage file!"]);
    assert.equal((await upload(emu, tok, pkgId, DATA, "checksumAlgorithm=NOPE")).status, 400);
    const ok = await upload(emu, tok, pkgId, DATA, "checksumAlgorithm=sha256");
    assert.equal(ok.status, 200);
    const info = ok.body as { checksum: string; checksumAlgorithm: string; dataSize: number; hasData: boolean };
    assert.deepEqual([info.checksumAlgorithm, info.dataSize, info.hasData], ["SHA256", DATA.length, true]);
    assert.equal(info.checksum, generateChecksum("SHA256", DATA));
    const dl = await fetch(`http://127.0.0.1:${emu.httpPort ?? 0}/api/otaPackage/${pkgId}/download`, {
      headers: { "x-authorization": `Bearer ${tok}` },
    });
    assert.deepEqual(Buffer.from(await dl.arrayBuffer()), DATA);
  });

  test("Guava's checksum strings: 32-bit hashes little-endian, murmur3_128 as Guava's test vectors", () => {
    const fox = Buffer.from("The quick brown fox jumps over the lazy dog");
    assert.equal(generateChecksum("CRC32", Buffer.from("hello")), "86a61036");
    assert.equal(generateChecksum("MURMUR3_32", Buffer.from("hello")), "47fa8b24");
    assert.equal(generateChecksum("MURMUR3_128", fox), "6c1b07bc7bbc4be347939ac4a93c437a");
    assert.equal(generateChecksum("MD5", fox), "9e107d9d372bb6826bd81d3542a419d6");
  });

  test("assigning pushes the sw_* shared attributes; the chunks come back on v2/sw/response", async () => {
    const c = await connectGateway(emu, 5);
    try {
      await c.subscribeAsync("v1/devices/me/attributes", { qos: 1 });
      await c.subscribeAsync("v2/sw/response/+/chunk/+", { qos: 1 });
      const pushed = nextMessage(c, "v1/devices/me/attributes");
      const saved = await rest.call("POST", "/api/device", {
        ...gwDevice,
        softwareId: { entityType: "OTA_PACKAGE", id: pkgId },
      });
      assert.equal(saved.status, 200);
      assert.deepEqual((await pushed).body, {
        sw_title: "app",
        sw_version: "1.1.0",
        sw_tag: "app 1.1.0",
        sw_size: DATA.length,
        sw_checksum_algorithm: "SHA256",
        sw_checksum: generateChecksum("SHA256", DATA),
      });
      const state = await rest.call(
        "GET",
        `/api/plugins/telemetry/DEVICE/${gwDevice.id.id}/values/timeseries?keys=sw_state,target_sw_version`,
      );
      const st = state.body as Record<string, Array<{ value: string }>>;
      assert.deepEqual([st["sw_state"]?.[0]?.value, st["target_sw_version"]?.[0]?.value], ["QUEUED", "1.1.0"]);
      const parts: Buffer[] = [];
      for (let n = 0; ; n++) {
        const got = nextRaw(c, `v2/sw/response/7/chunk/${n}`);
        // The size is sent once; later requests with an empty payload reuse it (chunkSizes).
        await c.publishAsync(`v2/sw/request/7/chunk/${n}`, n === 0 ? "1000" : "", { qos: 1 });
        const part = await got;
        if (part.length === 0) break;
        parts.push(part);
      }
      assert.deepEqual(
        parts.map((p) => p.length),
        [1000, 1000, 500],
      );
      assert.deepEqual(Buffer.concat(parts), DATA);
    } finally {
      await c.endAsync();
    }
  });

  test("a chunk size above the session's max payload size is PAYLOAD_TOO_LARGE on v2/fw/error, then the session closes", async () => {
    const c = await connectGateway(emu, 5);
    await c.subscribeAsync("v2/fw/error", { qos: 1 });
    const err = nextRaw(c, "v2/fw/error");
    const gone = closed(c);
    c.publish("v2/sw/request/1/chunk/0", "1025", { qos: 1 });
    assert.equal((await err).toString(), "PAYLOAD_TOO_LARGE");
    await gone;
  });

  test("no firmware assigned: NOT_FOUND on v2/fw/error and the session closes", async () => {
    const c = await connectGateway(emu, 5);
    await c.subscribeAsync("v2/fw/error", { qos: 1 });
    const err = nextRaw(c, "v2/fw/error");
    const gone = closed(c);
    c.publish("v2/fw/request/1/chunk/0", "100", { qos: 1 });
    assert.equal((await err).toString(), "NOT_FOUND");
    await gone;
  });

  test("assignment is refused for a firmware id used as software, a package without data, and another profile", async () => {
    const empty = await rest.call("POST", "/api/otaPackage", {
      title: "app",
      version: "2",
      type: "SOFTWARE",
      deviceProfileId: gwDevice.deviceProfileId,
    });
    const emptyId = (empty.body as { id: { id: string } }).id.id;
    const r1 = await rest.call("POST", "/api/device", {
      ...gwDevice,
      softwareId: { entityType: "OTA_PACKAGE", id: emptyId },
    });
    assert.deepEqual(
      [r1.status, (r1.body as { message: string }).message],
      [400, "Can't assign software with empty data!"],
    );
    const r2 = await rest.call("POST", "/api/device", {
      ...gwDevice,
      firmwareId: { entityType: "OTA_PACKAGE", id: pkgId },
    });
    assert.deepEqual(
      [r2.status, (r2.body as { message: string }).message],
      [400, "Can't assign firmware with type: SOFTWARE"],
    );
  });

  test("clearing the assignment deletes the sw_* shared attributes on the device", async () => {
    const c = await connectGateway(emu, 5);
    try {
      await c.subscribeAsync("v1/devices/me/attributes", { qos: 1 });
      const pushed = nextMessage(
        c,
        "v1/devices/me/attributes",
        (b) => typeof b === "object" && b !== null && "deleted" in b,
      );
      assert.equal((await rest.call("POST", "/api/device", { ...gwDevice, softwareId: null })).status, 200);
      const keys = ((await pushed).body as { deleted: string[] }).deleted.sort();
      assert.deepEqual(keys, ["sw_checksum", "sw_checksum_algorithm", "sw_size", "sw_tag", "sw_title", "sw_version"]);
    } finally {
      await c.endAsync();
    }
  });
});
