// The over-the-air flow as the VM checks drive it (otaChecks.ts): the release package run.sh built
// with `npm run package`, copies of it with another version (and, for the rollback, an entry point
// that crashes), published through ThingsBoard's REST paths on the emulator, and what the gateway
// reports back.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { publishPackage, type TbRest } from "../../../test/fakes/otaPackage.ts";
import * as app from "./appliance.ts";
import { assert, sh } from "./harness.ts";
import * as k from "./kernelSims.ts";
import { TCG, untilTelemetry, type Rig } from "./rig.ts";

export const PACKAGES = "/root/ota";
export const TITLE = "rpi-tb-gateway";
/** Download, unpack under emulation and a start (or three): bounded, but generously. */
export const FLOW_MS = 1_200_000 * TCG;

export interface PackageInfo {
  file: string;
  size: number;
  checksum: string;
  manifest: { version: string };
}

/** The package run.sh built with `npm run package` (its .json: file, size, SHA-256, manifest). */
export function builtPackage(): PackageInfo {
  const meta = readdirSync(PACKAGES).find((f) => f.endsWith(".tar.gz.json"));
  assert(meta, `no release package in ${PACKAGES} (scripts/vm/run.sh builds it with npm run package)`);
  return JSON.parse(readFileSync(`${PACKAGES}/${meta}`, "utf8")) as PackageInfo;
}

/**
 * The built package as another version; with `crash`, its entry point throws at start: a release
 * that installs (the guard unpacks it and its native modules load) but never gets healthy.
 */
export async function repackaged(pkg: PackageInfo, version: string, crash: boolean): Promise<Buffer> {
  const dir = `/root/ota-${version}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  await sh("tar", ["-xzf", `${PACKAGES}/${pkg.file}`, "-C", dir]);
  const setVersion = (path: string): void => {
    const json = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    writeFileSync(path, `${JSON.stringify({ ...json, version }, null, 2)}\n`);
  };
  setVersion(`${dir}/manifest.json`);
  setVersion(`${dir}/app/package.json`);
  if (crash)
    writeFileSync(
      `${dir}/app/dist/rpi-tb-gateway.mjs`,
      `// Deliberately broken by the VM test (scripts/vm/guest/otaFlow.ts): crashes at every start.\nthrow new Error("release ${version} is deliberately broken (VM test)");\n`,
    );
  // gzip -1: the same tarball layout as scripts/package.mjs, compressed quickly under emulation.
  await sh("tar", ["--use-compress-program=gzip -1", "-cf", `${dir}.tar.gz`, "-C", dir, "./manifest.json", "./app"]);
  rmSync(dir, { recursive: true, force: true });
  return readFileSync(`${dir}.tar.gz`);
}

const swStates = (rig: Rig): string[] =>
  rig.emu.telemetry(app.GATEWAY.name, "sw_state").map((r) => String(r.values["sw_state"]));

/** Publishes a package and waits for the flow to end (UPDATED or FAILED); returns the sw_states it made. */
export async function publishAndWait(rig: Rig, rest: TbRest, version: string, data: Buffer): Promise<string[]> {
  const from = swStates(rig).length;
  await publishPackage(rest, app.GATEWAY.name, TITLE, version, data);
  await untilTelemetry(
    rig.emu,
    app.GATEWAY.name,
    "sw_state",
    `sw_state UPDATED or FAILED for ${version}`,
    FLOW_MS,
    (v) => v === "UPDATED" || v === "FAILED",
    from,
  );
  return swStates(rig).slice(from);
}

export const EXPECTED = (last: string): string[] => [
  "QUEUED",
  "DOWNLOADING",
  "DOWNLOADED",
  "VERIFIED",
  "UPDATING",
  last,
];

/** Waits for the (re)started service's start-up GPIO report, then toggles relay1 by RPC. */
export async function toggleWorks(rig: Rig, since: number): Promise<string> {
  await untilTelemetry(
    rig.emu,
    app.RELAYS_DEVICE,
    "relay1",
    "the start-up GPIO report",
    300_000 * TCG,
    (_v, ts) => ts >= since,
  );
  const before = k.simValue(rig.sim, app.RELAY1);
  const r = await rig.emu.rpc(app.RELAYS_DEVICE, "toggle_gpio", { pin: app.RELAY1 }, { timeoutMs: 60_000 * TCG });
  assert(r.status === 200, `toggle_gpio answered ${r.status} ${JSON.stringify(r.body)}`);
  const after = k.simValue(rig.sim, app.RELAY1);
  assert(after === 1 - before, `relay1 line ${before} -> ${after} after toggle_gpio`);
  return `toggle_gpio: relay1 line ${before}->${after}`;
}

export function currentSwVersionSince(rig: Rig, since: number): string | undefined {
  const latest = rig.emu.latest(app.GATEWAY.name)["current_sw_version"];
  return latest && latest.ts >= since ? String(latest.value) : undefined;
}

export function swError(rig: Rig): string {
  const v = rig.emu.latest(app.GATEWAY.name)["sw_error"]?.value;
  return typeof v === "string" ? v : JSON.stringify(v);
}
