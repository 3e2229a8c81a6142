// A package uploaded on the dashboard, end to end: the running release (the in-process appliance
// with its real dashboard) takes the upload through the ThingsBoard path from the checksum on,
// reports every sw_state to ThingsBoard (the emulator), asks for the restart; scripts/ota-guard.sh
// switches; the new release reports UPDATED, knows the update came from the upload, and
// current_sw_version follows. Protocol facts as in updater.test.ts (OtaPackageUpdateStatus).
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import path from "node:path";
import { startEmulator, type Emulator } from "../../../../scripts/emulator/index.ts";
import { Controller } from "../../../../server/controller.ts";
import { configFrom, GW_NAME, GW_TOKEN, rawConfig, recordingLogger } from "../../../fakes/appHarness.ts";
import { buildPackage, releaseFiles } from "../../../fakes/otaPackage.ts";
import { DATA, guard, installedUnit, runningRelease } from "../../../fakes/otaSandbox.ts";
import { until } from "../../../fakes/waitFor.ts";
import type { Sandbox } from "../../../scripts/helpers/sandbox.ts";

const PASSWORD = "upload flow admin";

interface Unit {
  controller: Controller;
  restarts: () => number;
}

async function startUnit(emu: Emulator, box: Sandbox, version: string): Promise<Unit> {
  const raw = rawConfig(emu.mqttPort, box.r(DATA));
  raw["dashboard"] = { password: PASSWORD };
  let restarts = 0;
  const controller = new Controller({
    config: configFrom(raw),
    log: recordingLogger().log,
    unit: "ota",
    version,
    restart: () => restarts++,
  });
  await controller.start();
  return { controller, restarts: () => restarts };
}

async function uploadAsAdmin(base: string, data: Buffer): Promise<{ status: number; body: unknown }> {
  const login = await fetch(`${base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ password: PASSWORD }),
    signal: AbortSignal.timeout(5000),
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const res = await fetch(`${base}/api/update/upload?sha256=${createHash("sha256").update(data).digest("hex")}`, {
    method: "POST",
    headers: { "content-type": "application/gzip", cookie, origin: base },
    body: data,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: await res.json() };
}

describe("OTA update from a dashboard upload: updater -> guard -> new release, against the emulator", () => {
  let emu: Emulator;
  const boxes: Sandbox[] = [];
  let units: Unit[] = [];
  const states = (): string[] => emu.telemetry(GW_NAME, "sw_state").map((r) => String(r.values["sw_state"]));
  before(async () => {
    emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }] });
  });
  afterEach(async () => {
    for (const u of units) await u.controller.stop();
    units = [];
  });
  after(async () => {
    await emu.stop();
    for (const b of boxes) b.cleanup();
  });

  test("1.0.0 -> 1.2.0 uploaded by an admin: DOWNLOADING .. UPDATING, then UPDATED from the new release", async () => {
    const box = installedUnit(boxes);
    const old = await startUnit(emu, box, "1.0.0");
    units.push(old);
    await until(() => emu.latest(GW_NAME)["current_sw_version"]?.value === "1.0.0", "current_sw_version 1.0.0");
    const from = states().length;
    const pkg = buildPackage({ version: "1.2.0" }, releaseFiles(path.join(box.dir, "stand-ins")), 40_000);
    const r = await uploadAsAdmin(`http://127.0.0.1:${old.controller.httpPort}`, pkg);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await until(() => old.restarts() > 0, "the old release restarts for the update");
    await until(() => states().slice(from).includes("UPDATING"), "UPDATING delivered");
    assert.deepEqual(states().slice(from), ["DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING"]);
    // The event log says where the update came from.
    const texts = old.controller
      .snapshot()
      .events.filter((e) => e.text.startsWith("software"))
      .map((e) => e.text)
      .reverse();
    assert.deepEqual(texts, [
      "software package upload (uploaded on the dashboard by admin at 127.0.0.1): DOWNLOADING",
      ...["DOWNLOADED", "VERIFIED", "UPDATING"].map(
        (st) => `software update to 1.2.0 (uploaded on the dashboard by admin at 127.0.0.1): ${st}`,
      ),
    ]);
    await old.controller.stop();
    units = [];

    guard(box); // systemd's ExecStartPre before the next start
    assert.equal(runningRelease(box), "1.2.0");
    const fresh = await startUnit(emu, box, "1.2.0");
    units.push(fresh);
    await until(() => states().slice(from).includes("UPDATED"), "UPDATED reported", 15_000);
    assert.deepEqual(states().slice(from), ["DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING", "UPDATED"]);
    await until(() => emu.latest(GW_NAME)["current_sw_version"]?.value === "1.2.0", "current_sw_version 1.2.0");
    const last = fresh.controller.snapshot().update?.last;
    assert.deepEqual(
      [last?.state, last?.version, last?.source],
      ["UPDATED", "1.2.0", { kind: "upload", by: "admin at 127.0.0.1" }],
    );
    guard(box); // the next start ends the trial and keeps 1.2.0
    assert.equal(runningRelease(box), "1.2.0");
    assert.equal(box.exists(`${DATA}/ota/pending.json`), false);
    assert.equal(fresh.restarts(), 0);
  });
});
