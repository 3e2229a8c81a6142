// The appliance's life cycle with install.sh and uninstall.sh: an upgrade in place, a broken
// build that changes nothing, and the removal that keeps data and config.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as app from "./appliance.ts";
import { assert, sh, unitProps } from "./harness.ts";
import { SRC, TCG, type Rig } from "./rig.ts";
import { INSTALLED, STARTED } from "./serviceChecks.ts";

export const UPGRADED = "re-running install.sh with a newer version upgrades in place";

export async function upgradeChecks(rig: Rig): Promise<void> {
  const { checks } = rig;
  rig.confHash = app.sha256File(app.CONF);
  const confHash = rig.confHash;
  await checks.run(UPGRADED, async () => {
    await sh("systemctl", ["start", app.UNIT]);
    const pid = await app.mainPid();
    const v2 = "/root/src/v2";
    app.copyWithVersion(SRC, v2, "0.1.1-vmtest");
    const r = await app.install(v2);
    const newPid = await app.waitActive(120_000 * TCG, pid);
    assert(app.installedVersion() === "0.1.1-vmtest", `installed version is ${app.installedVersion()}`);
    assert(app.sha256File(app.CONF) === confHash, "the installer changed config.yaml");
    assert(/Dependencies unchanged/.test(r.out), "the upgrade did not reuse node_modules");
    return `0.1.0 -> ${app.installedVersion()}, service restarted (pid ${pid} -> ${newPid}), config untouched`;
  }, [STARTED]);

  await checks.run(
    "a deliberately failing build leaves the running version running",
    async () => {
      const pid = await app.mainPid();
      const v3 = "/root/src/v3";
      app.copyWithVersion(SRC, v3, "0.1.2-broken");
      writeFileSync(
        `${v3}/server/main.ts`,
        `${readFileSync(`${v3}/server/main.ts`, "utf8")}\nexport const = ; // deliberately broken by the VM test\n`,
      );
      const releasesBefore = readdirSync(`${app.APP_DIR}/releases`).sort().join(",");
      const r = await app.install(v3, { allowFail: true });
      assert(r.code !== 0, "install.sh succeeded with a broken source tree");
      const p = await unitProps(app.UNIT, ["ActiveState", "MainPID"]);
      assert(
        p.ActiveState === "active" && Number(p.MainPID) === pid,
        `service disturbed: ${JSON.stringify(p)} (was pid ${pid})`,
      );
      assert(app.installedVersion() === "0.1.1-vmtest", `installed version changed to ${app.installedVersion()}`);
      const releasesAfter = readdirSync(`${app.APP_DIR}/releases`).sort().join(",");
      assert(releasesAfter === releasesBefore, `releases changed: ${releasesBefore} -> ${releasesAfter}`);
      const last =
        r.out
          .trim()
          .split("\n")
          .filter((l) => /ERROR|unchanged/i.test(l))
          .slice(-1)[0] ?? "";
      return `install.sh exit ${r.code} ("${last.slice(0, 120)}"), pid ${pid} still active on 0.1.1-vmtest`;
    },
    [UPGRADED],
  );
}

export async function uninstallCheck(rig: Rig): Promise<void> {
  const { checks, confHash } = rig;

  await checks.run(
    "uninstall.sh removes the appliance and keeps data and config",
    async () => {
      // SQLite's -wal and -shm files are folded into the database when the service closes it.
      const dataFiles = readdirSync(app.DATA_DIR).filter((f) => !/-(wal|shm)$/.test(f));
      await sh("bash", [`${SRC}/scripts/uninstall.sh`]);
      const { out: active } = await sh("systemctl", ["is-active", app.UNIT], { allowFail: true });
      assert(active.trim() !== "active", "service still active");
      assert(
        !app.exists(`/etc/systemd/system/${app.UNIT}`) && !app.exists(app.APP_DIR),
        "unit file or /opt/rpi-tb-gateway still there",
      );
      const { code } = await sh("id", [app.SERVICE_USER], { allowFail: true });
      assert(code !== 0, "service user still exists");
      assert(app.sha256File(app.CONF) === confHash, "config.yaml changed or removed");
      const kept = readdirSync(app.DATA_DIR);
      assert(
        dataFiles.length > 0 && dataFiles.every((f) => kept.includes(f)),
        `data dir had ${JSON.stringify(dataFiles)}, now ${JSON.stringify(kept)}`,
      );
      return `unit, /opt/rpi-tb-gateway and user gone; config.yaml unchanged; data kept (${kept.join(", ")})`;
    },
    [INSTALLED],
  );
}
