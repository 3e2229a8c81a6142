import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Emulator } from "../../../scripts/emulator/index.ts";
import { connectGateway, nextMessage, publishRc, restLogin, startTestEmulator, type RestClient } from "./helpers.ts";

describe("emulator: REST subset", () => {
  let emu: Emulator;
  let rest: RestClient;
  let base: string;
  before(async () => {
    emu = await startTestEmulator();
    rest = await restLogin(emu);
    base = `http://127.0.0.1:${emu.httpPort ?? 0}`;
  });
  after(() => emu.stop());

  test("login refuses a wrong password; every other call needs the bearer token", async () => {
    const bad = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "tenant@thingsboard.org", password: "x" }),
    });
    assert.equal(bad.status, 401);
    const anon = await fetch(`${base}/api/tenant/devices?deviceName=GW`);
    assert.equal(anon.status, 401);
  });

  test("device by name (404 when absent) and the paged list", async () => {
    const gw = await rest.call("GET", "/api/tenant/devices?deviceName=GW");
    assert.equal(gw.status, 200);
    const d = gw.body as {
      id: { entityType: string; id: string };
      name: string;
      type: string;
      additionalInfo: { gateway: boolean };
    };
    assert.deepEqual(d.id, { entityType: "DEVICE", id: emu.device("GW")?.id });
    assert.equal(d.additionalInfo.gateway, true);
    assert.equal((await rest.call("GET", "/api/tenant/devices?deviceName=Missing")).status, 404);
    const page = await rest.call("GET", "/api/tenant/devices?pageSize=2&page=0");
    const p = page.body as { data: unknown[]; totalElements: number; totalPages: number; hasNext: boolean };
    assert.equal(p.data.length, 2);
    assert.equal(p.totalElements, emu.devices().length);
    assert.equal(p.hasNext, p.totalPages > 1);
    const search = await rest.call("GET", "/api/tenant/devices?pageSize=10&page=0&textSearch=plain");
    assert.deepEqual(
      (search.body as { data: Array<{ name: string }> }).data.map((x) => x.name),
      ["Plain"],
    );
    assert.equal((await rest.call("GET", "/api/tenant/devices")).status, 400);
  });

  test("saving SHARED_SCOPE pushes to the gateway; SERVER_SCOPE is stored only; reads return both", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "Rest Dev" }), 0);
    const id = emu.device("Rest Dev")?.id ?? "";
    const pushed = nextMessage(gw, "v1/gateway/attributes");
    assert.equal(
      (await rest.call("POST", `/api/plugins/telemetry/DEVICE/${id}/SHARED_SCOPE`, { mode: "eco" })).status,
      200,
    );
    assert.deepEqual((await pushed).body, { device: "Rest Dev", data: { mode: "eco" } });
    assert.equal(
      (await rest.call("POST", `/api/plugins/telemetry/DEVICE/${id}/attributes/SERVER_SCOPE`, { secret: 7 })).status,
      200,
    );
    const shared = await rest.call(
      "GET",
      `/api/plugins/telemetry/DEVICE/${id}/values/attributes/SHARED_SCOPE?keys=mode`,
    );
    const list = shared.body as Array<{ key: string; value: unknown; lastUpdateTs: number }>;
    assert.deepEqual(
      list.map((e) => [e.key, e.value]),
      [["mode", "eco"]],
    );
    assert.equal(typeof list[0]?.lastUpdateTs, "number");
    const all = await rest.call("GET", `/api/plugins/telemetry/DEVICE/${id}/values/attributes`);
    assert.deepEqual((all.body as Array<{ key: string }>).map((e) => e.key).sort(), ["mode", "secret"]);
    assert.equal(
      (await rest.call("GET", `/api/plugins/telemetry/DEVICE/${id}/values/attributes/BOGUS_SCOPE`)).status,
      400,
    );
    await gw.endAsync();
  });

  test("timeseries: latest as strings unless useStrictDataTypes, history newest first with a limit", async () => {
    const gw = await connectGateway(emu, 4);
    const recs = [1000, 2000, 3000].map((ts) => ({ ts, values: { temp: ts / 100, cfg: { a: 1 } } }));
    assert.equal(await publishRc(gw, "v1/gateway/telemetry", { "Series Dev": recs }), 0);
    const id = emu.device("Series Dev")?.id ?? "";
    const loose = await rest.call("GET", `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=temp,cfg`);
    assert.deepEqual(loose.body, { temp: [{ ts: 3000, value: "30" }], cfg: [{ ts: 3000, value: '{"a":1}' }] });
    const strict = await rest.call(
      "GET",
      `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=temp&useStrictDataTypes=true`,
    );
    assert.deepEqual(strict.body, { temp: [{ ts: 3000, value: 30 }] });
    const hist = await rest.call(
      "GET",
      `/api/plugins/telemetry/DEVICE/${id}/values/timeseries?keys=temp&startTs=0&endTs=2500&limit=5&useStrictDataTypes=true`,
    );
    assert.deepEqual(hist.body, {
      temp: [
        { ts: 2000, value: 20 },
        { ts: 1000, value: 10 },
      ],
    });
    await gw.endAsync();
  });

  test("bad JSON bodies get 400 with a message; unknown ids get 404", async () => {
    const id = emu.device("GW")?.id ?? "";
    const bad = await rest.call("POST", `/api/plugins/telemetry/DEVICE/${id}/SHARED_SCOPE`, "{oops");
    assert.equal(bad.status, 400);
    assert.match((bad.body as { message: string }).message, /Invalid JSON/);
    const noMethod = await rest.call("POST", `/api/plugins/rpc/twoway/${id}`, { params: {} });
    assert.equal(noMethod.status, 400);
    const unknown = "00000000-0000-4000-8000-000000000000";
    assert.equal(
      (await rest.call("POST", `/api/plugins/rpc/oneway/${unknown}`, { method: "x", params: {} })).status,
      404,
    );
    assert.equal((await rest.call("GET", `/api/plugins/telemetry/DEVICE/${unknown}/values/timeseries`)).status, 404);
    assert.equal((await rest.call("GET", "/api/no/such/route")).status, 404);
  });

  // TelemetryController.saveAttributes: plain-text 400 for no data and for a blank key.
  test("an empty attribute save or a blank key gets a plain-text 400", async () => {
    const id = emu.device("Plain")?.id ?? "";
    const empty = await rest.call("POST", `/api/plugins/telemetry/DEVICE/${id}/attributes/SERVER_SCOPE`, {});
    assert.deepEqual([empty.status, empty.body], [400, "No attributes data found in request body!"]);
    const blank = await rest.call("POST", `/api/plugins/telemetry/DEVICE/${id}/attributes/SERVER_SCOPE`, { " ": 1 });
    assert.deepEqual([blank.status, blank.body], [400, "Key cannot be blank"]);
  });

  // DeviceController.saveDevice; ThingsboardErrorResponseHandler for the entity limit (403).
  test("POST /api/device creates a device with the given access token; duplicates get 400", async () => {
    const made = await rest.call("POST", "/api/device?accessToken=made-token", { name: "Made", type: "thermo" });
    assert.equal(made.status, 200);
    assert.equal((made.body as { name: string }).name, "Made");
    assert.equal(emu.device("Made")?.type, "thermo");
    const c = await connectGateway(emu, 5, { username: "made-token" });
    c.end(true);
    const dup = await rest.call("POST", "/api/device", { name: "Made" });
    assert.deepEqual(
      [dup.status, (dup.body as { message: string }).message],
      [400, "Device with such name already exists!"],
    );
    assert.equal((await rest.call("POST", "/api/device", { type: "x" })).status, 400);
  });

  test("one-way RPC over REST answers 200 once the gateway got it", async () => {
    const gw = await connectGateway(emu, 5);
    assert.equal(await publishRc(gw, "v1/gateway/connect", { device: "OneWay" }), 0);
    const id = emu.device("OneWay")?.id ?? "";
    const got = nextMessage(gw, "v1/gateway/rpc");
    const res = await rest.call("POST", `/api/plugins/rpc/oneway/${id}`, { method: "blink", params: { times: 3 } });
    assert.deepEqual(res, { status: 200, body: null });
    assert.deepEqual((await got).body, { device: "OneWay", data: { id: 0, method: "blink", params: { times: 3 } } });
    await gw.endAsync();
  });
});
