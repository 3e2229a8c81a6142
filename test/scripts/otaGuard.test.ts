// scripts/ota-guard.sh, the root half of the OTA update (issue 16), on a temp root standing in
// for / (/opt/rpi-tb-gateway with its releases, /var/lib/rpi-tb-gateway/ota): apply a verified
// package (unpack, native-module check, atomic switch of `current`), a trial that ends healthy,
// the rollback of a release that never does, refusals, and kill -9 at each stage of the guard
// ending on a working release. The service side is test/server/features/ota/updater.test.ts.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { buildPackage, releaseFiles } from "../fakes/otaPackage.ts";
import { REPO, Sandbox } from "./helpers/sandbox.ts";

const GUARD = path.join(REPO, "scripts", "ota-guard.sh");
const APP = "opt/rpi-tb-gateway";
const OTA = "var/lib/rpi-tb-gateway/ota";
const boxes: Sandbox[] = [];
after(() => {
  for (const b of boxes) b.cleanup();
});

/** A unit running release 1.0.0 from releases/r1, with a verified 2.0.0 package handed over by the service. */
function unitWithUpdate(variant: "ok" | "broken" = "ok"): Sandbox {
  const box = new Sandbox();
  boxes.push(box);
  for (const [p, c] of Object.entries(releaseFiles(path.join(box.dir, "stand-ins"))))
    box.write(`${APP}/releases/r1/${p}`, c);
  box.write(`${APP}/releases/r1/package.json`, JSON.stringify({ name: "rpi-tb-gateway", version: "1.0.0" }));
  fs.symlinkSync("releases/r1", box.r(`${APP}/current`));
  fs.mkdirSync(box.r(OTA), { recursive: true });
  fs.writeFileSync(
    box.r(`${OTA}/package.tar.gz`),
    buildPackage({ version: "2.0.0" }, releaseFiles(path.join(box.dir, "stand-ins"), variant), 1000),
  );
  box.write(
    `${OTA}/apply.json`,
    JSON.stringify({
      title: "rpi-tb-gateway",
      version: "2.0.0",
      checksum: "abc123",
      algorithm: "SHA256",
      file: "package.tar.gz",
      from: "1.0.0",
    }),
  );
  return box;
}

const current = (box: Sandbox): string => fs.readlinkSync(box.r(`${APP}/current`));
const runningVersion = (box: Sandbox): string =>
  (JSON.parse(box.read(`${APP}/current/package.json`)) as { version: string }).version;
const json = (box: Sandbox, f: string): Record<string, unknown> =>
  JSON.parse(box.read(`${OTA}/${f}`)) as Record<string, unknown>;

function guard(box: Sandbox): void {
  const r = box.run(GUARD, ["--root", box.root]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
}

/** A command that kills the guard (its parent) with SIGKILL, after doing its real work when `first` says so. */
function killer(box: Sandbox, name: string, script: string): void {
  fs.rmSync(path.join(box.bin, name), { force: true });
  fs.writeFileSync(path.join(box.bin, name), `#!/usr/bin/env bash\n${script}\n`, { mode: 0o755 });
}

describe("ota-guard.sh", () => {
  test("applies a verified package: unpacked, native modules checked, `current` switched, the previous release kept", () => {
    const box = unitWithUpdate();
    const r = box.run(GUARD, ["--root", box.root]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(current(box), /^releases\/ota-2\.0\.0-\d{8}T\d{6}Z$/);
    assert.equal(runningVersion(box), "2.0.0");
    assert.ok(
      r.calls.some((c) => c.startsWith("node scripts/check-native.mjs")),
      r.calls.join("\n"),
    );
    assert.ok(r.calls.some((c) => c.startsWith("chown -R root:root")));
    assert.deepEqual(fs.readdirSync(box.r(`${APP}/releases`)).sort(), ["r1", path.basename(current(box))].sort());
    assert.deepEqual(json(box, "pending.json"), {
      version: "2.0.0",
      target: current(box),
      previous: "releases/r1",
      checksum: "abc123",
      starts: 1,
    });
    assert.equal(box.exists(`${OTA}/apply.json`), false);
    assert.equal(box.exists(`${OTA}/package.tar.gz`), false);
  });

  test("a release that reports healthy ends its trial and stays", () => {
    const box = unitWithUpdate();
    guard(box);
    box.write(`${OTA}/healthy`, JSON.stringify({ version: "2.0.0" }));
    guard(box);
    assert.equal(runningVersion(box), "2.0.0");
    assert.equal(box.exists(`${OTA}/pending.json`), false);
    assert.equal(box.exists(`${OTA}/result.json`), false);
  });

  test("a release that never becomes healthy is rolled back after its second start, with FAILED and the reason for the service", () => {
    const box = unitWithUpdate();
    guard(box); // applied; first start of 2.0.0
    guard(box); // 2.0.0 died or missed its health deadline: second start
    assert.equal(runningVersion(box), "2.0.0");
    guard(box); // again: back to 1.0.0
    assert.equal(current(box), "releases/r1");
    assert.equal(runningVersion(box), "1.0.0");
    const result = json(box, "result.json");
    assert.deepEqual(
      [result["state"], result["version"], result["checksum"], result["reported"]],
      ["FAILED", "2.0.0", "abc123", false],
    );
    assert.equal(
      result["error"],
      "release 2.0.0 did not become healthy (connected to ThingsBoard with its devices running) in 2 starts; rolled back to 1.0.0",
    );
    assert.equal(box.exists(`${OTA}/pending.json`), false);
    guard(box); // and 1.0.0 stays
    assert.equal(runningVersion(box), "1.0.0");
  });

  test("a package whose native modules do not load is refused before the switch", () => {
    const box = unitWithUpdate("broken");
    guard(box);
    assert.equal(current(box), "releases/r1");
    const result = json(box, "result.json");
    assert.equal(result["state"], "FAILED");
    assert.match(String(result["error"]), /native module of release 2\.0\.0 does not load/);
    assert.deepEqual(fs.readdirSync(box.r(`${APP}/releases`)), ["r1"], "no partial release left");
    assert.equal(box.exists(`${OTA}/apply.json`), false);
  });

  test("kill -9 during the unpack: the old release runs; the next start unpacks again and switches", () => {
    const box = unitWithUpdate();
    killer(box, "tar", 'out=$(/usr/bin/env -i PATH=/usr/bin:/bin tar "$@" 2>&1); kill -9 "$PPID"; exit 1');
    const r = box.run(GUARD, ["--root", box.root]);
    assert.equal(r.status, null, "the guard was killed");
    assert.equal(current(box), "releases/r1");
    assert.ok(box.exists(`${OTA}/apply.json`), "the update is still to do");
    fs.rmSync(path.join(box.bin, "tar"));
    guard(box);
    assert.equal(runningVersion(box), "2.0.0");
    assert.deepEqual(
      fs.readdirSync(box.r(`${APP}/releases`)).filter((n) => n.endsWith(".partial")),
      [],
      "the cut-short unpack is cleaned up",
    );
  });

  test("kill -9 at the switch (pending written, `current` not yet renamed): the old release runs; the next start switches", () => {
    const box = unitWithUpdate();
    killer(box, "mv", 'case "${!#}" in */current) kill -9 "$PPID"; exit 1 ;; esac; exec /bin/mv "$@"');
    const r = box.run(GUARD, ["--root", box.root]);
    assert.equal(r.status, null);
    assert.equal(current(box), "releases/r1");
    assert.ok(box.exists(`${OTA}/pending.json`));
    fs.rmSync(path.join(box.bin, "mv"));
    guard(box);
    assert.equal(runningVersion(box), "2.0.0");
    assert.equal(json(box, "pending.json")["starts"], 1);
  });

  test("kill -9 during the first start (power cut): the trial counts the start; a second failure rolls back", () => {
    const box = unitWithUpdate();
    guard(box);
    // The new release was killed before it reported healthy, twice.
    guard(box);
    guard(box);
    assert.equal(runningVersion(box), "1.0.0");
  });

  test("under the unit's UMask=0027 the service can still read pending.json after the trial count (kill -9 in the first start)", () => {
    // systemd runs the guard as root with the unit's UMask; the service (another user) reads
    // pending.json to know it is on trial. Found in the virtual Pi: after a kill -9 in the first
    // start, the recounted pending.json was 0640 root:root, the second start did not know it was
    // on trial, never reported UPDATED, and the next restart would have rolled it back.
    const box = unitWithUpdate();
    const wrapper = path.join(box.dir, "guard-umask.sh");
    fs.writeFileSync(wrapper, `umask 0027\nexec bash ${GUARD} "$@"\n`);
    const underUnit = (): void => {
      const r = box.run(wrapper, ["--root", box.root]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
    };
    const mode = (f: string): number => fs.statSync(box.r(`${OTA}/${f}`)).mode & 0o777;
    underUnit(); // switch: start 1
    assert.equal(mode("pending.json"), 0o644);
    underUnit(); // killed, started again: start 2
    assert.equal(json(box, "pending.json")["starts"], 2);
    assert.equal(mode("pending.json"), 0o644);
    underUnit(); // killed again: rolled back, FAILED for the service to report
    assert.equal(runningVersion(box), "1.0.0");
    assert.equal(mode("result.json"), 0o644);
  });

  test("nothing to do: no ota directory, or nothing pending, leaves `current` alone", () => {
    const box = unitWithUpdate();
    fs.rmSync(box.r(OTA), { recursive: true });
    guard(box);
    assert.equal(current(box), "releases/r1");
  });
});
