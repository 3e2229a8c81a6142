// An installed unit for the OTA flow tests: a temp root standing in for /opt/rpi-tb-gateway and
// the data dir (test/scripts/helpers/sandbox.ts), release 1.0.0 in releases/r1 with `current`
// pointing at it as install.sh leaves it, and scripts/ota-guard.sh run as systemd's
// ExecStartPre would before the next start.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { REPO, Sandbox } from "../scripts/helpers/sandbox.ts";
import { releaseFiles } from "./otaPackage.ts";

export const GUARD = path.join(REPO, "scripts", "ota-guard.sh");
export const APP = "opt/rpi-tb-gateway";
export const DATA = "var/lib/rpi-tb-gateway";

export function guard(box: Sandbox): void {
  const r = box.run(GUARD, ["--root", box.root]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
}

/** A unit installed by install.sh: release 1.0.0 in releases/r1, `current` pointing at it. */
export function installedUnit(boxes: Sandbox[]): Sandbox {
  const box = new Sandbox();
  boxes.push(box);
  for (const [p, c] of Object.entries(releaseFiles(path.join(box.dir, "stand-ins"))))
    box.write(`${APP}/releases/r1/${p}`, c);
  box.write(`${APP}/releases/r1/package.json`, JSON.stringify({ name: "rpi-tb-gateway", version: "1.0.0" }));
  fs.symlinkSync("releases/r1", box.r(`${APP}/current`));
  fs.mkdirSync(box.r(DATA), { recursive: true });
  return box;
}

export const runningRelease = (box: Sandbox): string =>
  (JSON.parse(box.read(`${APP}/current/package.json`)) as { version: string }).version;
