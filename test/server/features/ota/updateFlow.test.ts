// The whole OTA update of issue 16 against the emulator, with a temp root standing in for /opt
// and the data dir: the running release (the in-process appliance) downloads and verifies the
// package ThingsBoard assigned, exits for the restart; scripts/ota-guard.sh (as systemd runs it
// before the next start) switches to the new release; the new release reports UPDATED once
// connected with its devices running - or, never healthy, is rolled back and the old release
// reports FAILED. Protocol facts as in updater.test.ts (MqttTopics.java, MqttTransportHandler,
// DefaultOtaPackageStateService, OtaPackageUpdateStatus).
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startEmulator, type Emulator } from "../../../../scripts/emulator/index.ts";
import { Controller } from "../../../../server/controller.ts";
import { configFrom, GW_NAME, GW_TOKEN, rawConfig, recordingLogger } from "../../../fakes/appHarness.ts";
import { buildPackage, publishPackage, releaseFiles, tbRest, type TbRest } from "../../../fakes/otaPackage.ts";
import { DATA, guard, installedUnit, runningRelease } from "../../../fakes/otaSandbox.ts";
import { until } from "../../../fakes/waitFor.ts";
import type { Sandbox } from "../../../scripts/helpers/sandbox.ts";

interface Unit {
  controller: Controller;
  restarts: () => number;
  logs: () => string[];
}

async function startUnit(
  emu: Emulator,
  box: Sandbox,
  version: string,
  ota: Record<string, unknown> = {},
): Promise<Unit> {
  const raw = rawConfig(emu.mqttPort, box.r(DATA));
  raw["gateway"] = { ...(raw["gateway"] as object), ota: { chunkBytes: 4096, chunkTimeoutSec: 5, ...ota } };
  let restarts = 0;
  const { log, records } = recordingLogger();
  const controller = new Controller({
    config: configFrom(raw),
    log,
    unit: "ota",
    version,
    dashboard: false,
    restart: () => restarts++,
  });
  await controller.start();
  return { controller, restarts: () => restarts, logs: () => records.map((r) => r.msg) };
}

describe("OTA update flow: ThingsBoard -> updater -> guard -> new release, against the emulator", () => {
  let emu: Emulator;
  let rest: TbRest;
  const boxes: Sandbox[] = [];
  let units: Unit[] = [];
  const states = (): string[] => emu.telemetry(GW_NAME, "sw_state").map((r) => String(r.values["sw_state"]));
  before(async () => {
    emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], maxPayloadSize: 8192 });
    rest = await tbRest(emu);
  });
  afterEach(async () => {
    for (const u of units) await u.controller.stop();
    units = [];
  });
  after(async () => {
    await emu.stop();
    for (const b of boxes) b.cleanup();
  });

  test("1.0.0 -> 1.2.0: QUEUED, DOWNLOADING, DOWNLOADED, VERIFIED, UPDATING, UPDATED, and current_sw_version 1.2.0", async () => {
    const box = installedUnit(boxes);
    const from = states().length;
    const old = await startUnit(emu, box, "1.0.0");
    units.push(old);
    const stand = path.join(box.dir, "stand-ins");
    await publishPackage(
      rest,
      GW_NAME,
      "rpi-tb-gateway",
      "1.2.0",
      buildPackage({ version: "1.2.0" }, releaseFiles(stand), 40_000),
    );
    await until(() => old.restarts() > 0, "the old release restarts for the update", 15_000);
    // The dashboard's snapshot and event log saw the update go by.
    const seen = old.controller.snapshot();
    assert.equal(seen.update?.state, "UPDATING");
    assert.deepEqual(
      seen.events
        .filter((e) => e.text.startsWith("software update"))
        .map((e) => e.text)
        .reverse(),
      ["DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING"].map(
        (st) => `software update to 1.2.0 (from ThingsBoard): ${st}`,
      ),
    );
    await old.controller.stop();
    units = [];
    guard(box); // systemd's ExecStartPre before the next start
    assert.equal(runningRelease(box), "1.2.0");
    const fresh = await startUnit(emu, box, "1.2.0");
    units.push(fresh);
    await until(() => states().slice(from).includes("UPDATED"), "UPDATED reported", 15_000);
    assert.deepEqual(states().slice(from), ["QUEUED", "DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING", "UPDATED"]);
    await until(() => emu.latest(GW_NAME)["current_sw_version"]?.value === "1.2.0", "current_sw_version 1.2.0");
    assert.equal(emu.latest(GW_NAME)["current_sw_title"]?.value, "rpi-tb-gateway");
    assert.deepEqual(
      [fresh.controller.snapshot().update?.last?.state, fresh.controller.snapshot().update?.last?.version],
      ["UPDATED", "1.2.0"],
    );
    // The new release knows where it came from (origin.json, left by the old one).
    assert.deepEqual(fresh.controller.snapshot().update?.last?.source, { kind: "thingsboard" });
    guard(box); // the next start ends the trial and keeps 1.2.0
    assert.equal(runningRelease(box), "1.2.0");
    assert.equal(box.exists(`${DATA}/ota/pending.json`), false);
    assert.equal(fresh.restarts(), 0);
  });

  test("the next update after an OTA one: 1.5.0 (healthy, its trial not yet closed by a restart) -> 1.6.0", async () => {
    // A release the guard switched to stays "on trial" in pending.json until the next start sees
    // its healthy file; the next start is normally the one for the next update. That update must
    // end the trial and apply the package, not count a start of 1.5.0 and roll it back later.
    const box = installedUnit(boxes);
    const stand = path.join(box.dir, "stand-ins");
    const old = await startUnit(emu, box, "1.0.0");
    units.push(old);
    await publishPackage(
      rest,
      GW_NAME,
      "rpi-tb-gateway",
      "1.5.0",
      buildPackage({ version: "1.5.0" }, releaseFiles(stand)),
    );
    await until(() => old.restarts() > 0, "the old release restarts for the update", 15_000);
    await old.controller.stop();
    units = [];
    guard(box);
    const first = await startUnit(emu, box, "1.5.0");
    units.push(first);
    await until(() => box.exists(`${DATA}/ota/healthy`), "1.5.0 reports healthy", 15_000);
    await until(() => emu.latest(GW_NAME)["sw_state"]?.value === "UPDATED", "UPDATED for 1.5.0", 15_000);
    const from = states().length;
    await publishPackage(
      rest,
      GW_NAME,
      "rpi-tb-gateway",
      "1.6.0",
      buildPackage({ version: "1.6.0" }, releaseFiles(stand)),
    );
    await until(() => first.restarts() > 0, "1.5.0 restarts for the next update", 15_000);
    await first.controller.stop();
    units = [];
    guard(box);
    assert.equal(runningRelease(box), "1.6.0", "the guard applied 1.6.0 at the restart 1.5.0 asked for");
    const second = await startUnit(emu, box, "1.6.0");
    units.push(second);
    await until(() => states().slice(from).includes("UPDATED"), "UPDATED reported", 15_000);
    assert.deepEqual(states().slice(from), ["QUEUED", "DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING", "UPDATED"]);
    guard(box);
    assert.equal(runningRelease(box), "1.6.0");
  });

  test("a new release that never gets healthy is rolled back; the old one reports FAILED and does not take the package again", async () => {
    const box = installedUnit(boxes);
    const from = states().length;
    const old = await startUnit(emu, box, "1.0.0");
    units.push(old);
    await publishPackage(
      rest,
      GW_NAME,
      "rpi-tb-gateway",
      "1.3.0",
      buildPackage({ version: "1.3.0" }, releaseFiles(path.join(box.dir, "stand-ins")), 20_000),
    );
    await until(() => old.restarts() > 0, "the old release restarts for the update", 15_000);
    await old.controller.stop();
    units = [];
    guard(box);
    assert.equal(runningRelease(box), "1.3.0");
    // 1.3.0 cannot reach ThingsBoard: its health deadline runs out and it exits for a restart.
    await emu.pause();
    const broken = await startUnit(emu, box, "1.3.0", { healthDeadlineSec: 10 });
    units.push(broken);
    await until(() => broken.restarts() > 0, "the health deadline restarts 1.3.0", 20_000);
    await broken.controller.stop();
    units = [];
    guard(box); // second start of 1.3.0 ...
    guard(box); // ... that did not get healthy either (killed, crashed): back to 1.0.0
    assert.equal(runningRelease(box), "1.0.0");
    await emu.resume();
    const back = await startUnit(emu, box, "1.0.0");
    units.push(back);
    await until(() => states().slice(from).includes("FAILED"), "FAILED reported", 15_000);
    assert.deepEqual(states().slice(from), ["QUEUED", "DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING", "FAILED"]);
    assert.equal(
      emu.telemetry(GW_NAME, "sw_error").at(-1)?.values["sw_error"],
      "release 1.3.0 did not become healthy (connected to ThingsBoard with its devices running) in 2 starts; rolled back to 1.0.0",
    );
    await until(() => emu.latest(GW_NAME)["current_sw_version"]?.value === "1.0.0", "current_sw_version 1.0.0");
    // The same package is still assigned: the old release looks at it and leaves it.
    await until(
      () => back.logs().some((m) => m.startsWith("not taking sw rpi-tb-gateway 1.3.0 again: it failed before")),
      "the failed package is left alone",
    );
    assert.equal(
      states()
        .slice(from)
        .filter((s) => s === "DOWNLOADING").length,
      1,
    );
    assert.equal(back.restarts(), 0);
  });
});
