// Over-the-air updates under the real unit (issue 16), driven as an operator does
// (docs/ota-updates.md; the packages and the REST steps are in otaFlow.ts). The running service
// downloads and verifies a package and exits 75; systemd restarts it (Restart=on-failure);
// scripts/ota-guard.sh, the unit's ExecStartPre, switches `current`; the new release reports
// UPDATED. A release that crashes at start is rolled back by the guard after two starts, and a
// new release killed (-9) during its first start still ends on a working version.
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { tbRest, type TbRest } from "../../../test/fakes/otaPackage.ts";
import * as app from "./appliance.ts";
import { assert, unitProps, waitUntil } from "./harness.ts";
import {
  builtPackage,
  currentSwVersionSince,
  EXPECTED,
  FLOW_MS,
  PACKAGES,
  publishAndWait,
  repackaged,
  swError,
  toggleWorks,
} from "./otaFlow.ts";
import { TCG, type Rig } from "./rig.ts";
import { MAPPED, STARTED } from "./serviceChecks.ts";

const BROKEN_VERSION = "0.3.0-vmbroken";
const KILLED_VERSION = "0.4.0-vmkill";
const CURRENT = `${app.APP_DIR}/current`;

export const OTA_UPDATED =
  "OTA update under systemd: sw_state in order, exit 75 -> restart, ota-guard.sh switches `current`, the new version runs GPIO";
export const OTA_ROLLED_BACK =
  "OTA release that crashes at start is rolled back by ota-guard.sh under systemd; the previous release reports FAILED";
export const OTA_KILLED =
  "OTA release killed (-9) during its first start: systemd restarts it, the guard counts the start, it ends UPDATED";

async function updateToNewRelease(rig: Rig, rest: TbRest): Promise<string> {
  const pkg = builtPackage();
  const version = pkg.manifest.version;
  const fromVersion = app.installedVersion();
  const fromTarget = readlinkSync(CURRENT);
  const before = await unitProps(app.UNIT, ["MainPID", "NRestarts"]);
  const journalFrom = await app.nowForJournal();
  const start = Date.now();
  const states = await publishAndWait(rig, rest, version, readFileSync(`${PACKAGES}/${pkg.file}`));
  const secs = (Date.now() - start) / 1000;
  assert(
    JSON.stringify(states) === JSON.stringify(EXPECTED("UPDATED")),
    `sw_state went ${JSON.stringify(states)}; sw_error ${swError(rig)}`,
  );
  const journal = await app.journalSince(journalFrom);
  assert(/status=75/.test(journal), `no exit 75 in the journal:\n${journal.slice(-800)}`);
  assert(journal.includes(`Switched to release ${version}`), `ota-guard.sh did not switch:\n${journal.slice(-800)}`);
  const target = readlinkSync(CURRENT);
  assert(target !== fromTarget && target.startsWith(`releases/ota-${version}-`), `current -> ${target}`);
  assert(app.installedVersion() === version, `current/package.json is ${app.installedVersion()}`);
  const pid = await app.waitActive(300_000 * TCG, Number(before.MainPID));
  const after = await unitProps(app.UNIT, ["NRestarts"]);
  assert(Number(after.NRestarts) > Number(before.NRestarts), `NRestarts ${before.NRestarts} -> ${after.NRestarts}`);
  const reported = currentSwVersionSince(rig, start);
  assert(reported === version, `current_sw_version since the publish: ${reported}`);
  const gpio = await toggleWorks(rig, start);
  return `${fromVersion} -> ${version} (${(pkg.size / 1048576).toFixed(1)} MB, npm run package) in ${secs.toFixed(0)} s: sw_state ${states.join(", ")}; exit 75, systemd restart (NRestarts ${before.NRestarts} -> ${after.NRestarts}, pid ${before.MainPID} -> ${pid}); current ${fromTarget} -> ${target}; current_sw_version ${reported}; ${gpio}`;
}

async function rollBackBrokenRelease(rig: Rig, rest: TbRest): Promise<string> {
  const good = app.installedVersion();
  const goodTarget = readlinkSync(CURRENT);
  const data = await repackaged(builtPackage(), BROKEN_VERSION, true);
  const before = await unitProps(app.UNIT, ["MainPID", "NRestarts"]);
  const journalFrom = await app.nowForJournal();
  const start = Date.now();
  const states = await publishAndWait(rig, rest, BROKEN_VERSION, data);
  const secs = (Date.now() - start) / 1000;
  const error = swError(rig);
  assert(
    JSON.stringify(states) === JSON.stringify(EXPECTED("FAILED")),
    `sw_state went ${JSON.stringify(states)}; sw_error ${error}`,
  );
  assert(
    error.includes(`release ${BROKEN_VERSION} did not become healthy`) && error.includes(`rolled back to ${good}`),
    `sw_error: ${error}`,
  );
  const journal = await app.journalSince(journalFrom);
  const crashes = journal
    .split("\n")
    .filter((l) => l.includes(`Error: release ${BROKEN_VERSION} is deliberately broken`));
  assert(crashes.length >= 2, `the broken release crashed ${crashes.length} times (journal):\n${journal.slice(-1200)}`);
  assert(journal.includes(`Switched to release ${BROKEN_VERSION}`), `the guard never switched to ${BROKEN_VERSION}`);
  assert(readlinkSync(CURRENT) === goodTarget, `current -> ${readlinkSync(CURRENT)}, not back at ${goodTarget}`);
  assert(app.installedVersion() === good, `running ${app.installedVersion()}, not ${good}`);
  const pid = await app.waitActive(300_000 * TCG, Number(before.MainPID));
  const after = await unitProps(app.UNIT, ["NRestarts", "ActiveState"]);
  const reported = currentSwVersionSince(rig, start);
  assert(reported === good, `current_sw_version since the publish: ${reported}`);
  const gpio = await toggleWorks(rig, start);
  const leftAlone = journal.includes(`not taking sw rpi-tb-gateway ${BROKEN_VERSION} again`);
  return `${good} -> ${BROKEN_VERSION} (crashes at start) in ${secs.toFixed(0)} s: sw_state ${states.join(", ")}; ${crashes.length} crashed starts, rolled back: current -> ${goodTarget} again, ${after.ActiveState} as pid ${pid} (NRestarts ${before.NRestarts} -> ${after.NRestarts}); sw_error "${error}"; current_sw_version ${reported}; ${gpio}${leftAlone ? "; the failed package is not taken again" : ""}`;
}

/** Kills the main process of `version`'s first start, before it sent READY=1 (so before it was healthy). */
async function killFirstStart(version: string): Promise<{ pid: number; healthyBefore: boolean }> {
  const pid = await waitUntil(
    `the first start of ${version} (unit activating with a main PID)`,
    FLOW_MS,
    async () => {
      const target = existsSync(CURRENT) ? readlinkSync(CURRENT) : "";
      if (!target.startsWith(`releases/ota-${version}-`)) return undefined;
      const p = await unitProps(app.UNIT, ["ActiveState", "SubState", "MainPID"]);
      return p.ActiveState === "activating" && p.SubState === "start" && Number(p.MainPID) > 0
        ? Number(p.MainPID)
        : undefined;
    },
    250,
  );
  const healthyBefore = existsSync(`${app.DATA_DIR}/ota/healthy`);
  process.kill(pid, "SIGKILL");
  return { pid, healthyBefore };
}

async function killDuringFirstStart(rig: Rig, rest: TbRest): Promise<string> {
  const from = app.installedVersion();
  const data = await repackaged(builtPackage(), KILLED_VERSION, false);
  const journalFrom = await app.nowForJournal();
  const start = Date.now();
  const [states, killed] = await Promise.all([
    publishAndWait(rig, rest, KILLED_VERSION, data),
    killFirstStart(KILLED_VERSION),
  ]);
  assert(!killed.healthyBefore, "the new release was already healthy when it was killed");
  assert(
    JSON.stringify(states) === JSON.stringify(EXPECTED("UPDATED")),
    `sw_state went ${JSON.stringify(states)}; sw_error ${swError(rig)}`,
  );
  const journal = await app.journalSince(journalFrom);
  assert(
    journal.includes(`release ${KILLED_VERSION} on trial: start 2 of 2`),
    `the guard did not count the second start:\n${journal.slice(-1200)}`,
  );
  assert(app.installedVersion() === KILLED_VERSION, `running ${app.installedVersion()}`);
  const pid = await app.waitActive(300_000 * TCG, killed.pid);
  const reported = currentSwVersionSince(rig, start);
  assert(reported === KILLED_VERSION, `current_sw_version since the publish: ${reported}`);
  const gpio = await toggleWorks(rig, start);
  return `${from} -> ${KILLED_VERSION}: pid ${killed.pid} killed while activating, the guard counted "start 2 of 2", now pid ${pid} on ${readlinkSync(CURRENT)}; sw_state ${states.join(", ")}; current_sw_version ${reported}; ${gpio}`;
}

export async function otaChecks(rig: Rig): Promise<void> {
  const rest = await tbRest(rig.emu);
  await rig.checks.run(OTA_UPDATED, () => updateToNewRelease(rig, rest), [STARTED, MAPPED]);
  await rig.checks.run(OTA_ROLLED_BACK, () => rollBackBrokenRelease(rig, rest), [OTA_UPDATED]);
  await rig.checks.run(OTA_KILLED, () => killDuringFirstStart(rig, rest), [OTA_ROLLED_BACK]);
}
