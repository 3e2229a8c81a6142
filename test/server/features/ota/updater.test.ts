// The appliance's OTA updater (server/features/ota) against the emulator over real MQTT, with
// ThingsBoard's protocol as in its source: MqttTopics.java (v2/sw/request|response topics),
// MqttTransportHandler.getOtaPackageCallback (chunk size, requestId, errors on v2/fw/error),
// DefaultOtaPackageStateService (sw_* shared attributes), OtaPackageUpdateStatus (sw_state).
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../../../scripts/emulator/index.ts";
import { Controller } from "../../../../server/controller.ts";
import { configFrom, GW_NAME, GW_TOKEN, rawConfig, recordingLogger, tempDir } from "../../../fakes/appHarness.ts";
import { buildPackage, publishPackage, tbRest, type TbRest } from "../../../fakes/otaPackage.ts";
import { until } from "../../../fakes/waitFor.ts";

const VERSION = "0.0.0-test";

interface Unit {
  controller: Controller;
  dir: string;
  restarts: () => number;
}

async function startUnit(
  emu: Emulator,
  dir: string,
  ota: Record<string, unknown> = {},
  version = VERSION,
): Promise<Unit> {
  const raw = rawConfig(emu.mqttPort, dir);
  raw["gateway"] = { ...(raw["gateway"] as object), ota: { chunkBytes: 4096, chunkTimeoutSec: 5, ...ota } };
  const { log } = recordingLogger();
  let restarts = 0;
  const controller = new Controller({
    config: configFrom(raw),
    log,
    unit: "ota",
    version,
    dashboard: false,
    restart: () => restarts++,
  });
  await controller.start();
  return { controller, dir, restarts: () => restarts };
}

function states(emu: Emulator): string[] {
  return emu.telemetry(GW_NAME, "sw_state").map((r) => String(r.values["sw_state"]));
}

function lastError(emu: Emulator): string {
  const e = emu.telemetry(GW_NAME, "sw_error").at(-1);
  return e ? String(e.values["sw_error"]) : "";
}

describe("OTA updater: ThingsBoard's software update protocol, end to end against the emulator", () => {
  let emu: Emulator;
  let rest: TbRest;
  let unit: Unit | undefined;
  before(async () => {
    // 8 KB session payload limit: the 32 KB default chunk is capped, and packages take many chunks.
    emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], maxPayloadSize: 8192 });
    rest = await tbRest(emu);
  });
  afterEach(async () => {
    await unit?.controller.stop();
    unit = undefined;
  });
  after(() => emu.stop());

  test("an assigned package is downloaded in chunks, verified, and handed to the guard with every sw_state in order", async () => {
    const dir = tempDir("ota-up-");
    unit = await startUnit(emu, dir, { chunkBytes: 65_536 });
    await until(() => unit?.controller.ota?.running.version === VERSION, "updater up");
    await until(() => emu.latest(GW_NAME)["current_sw_version"], "current_sw_version reported");
    const pkg = buildPackage({ version: "1.2.0" }, {}, 30_000);
    const chunks: number[] = [];
    const onChunk = (_d: string, c: { chunkSize: number; bytes: number }) => chunks.push(c.chunkSize);
    emu.events.on("otaChunk", onChunk);
    await publishPackage(rest, GW_NAME, "rpi-tb-gateway", "1.2.0", pkg);
    await until(() => unit!.restarts() > 0, "restart for the update", 15_000);
    emu.events.off("otaChunk", onChunk);
    await until(() => states(emu).includes("UPDATING"), "UPDATING delivered");
    assert.deepEqual(states(emu), ["QUEUED", "DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING"]);
    // The chunk size was capped at the session's maxPayloadSize (getSessionLimits), never above it.
    assert.ok(chunks.length >= Math.ceil(pkg.length / 8192));
    assert.ok(
      chunks.every((c) => c === 8192),
      `chunk sizes ${[...new Set(chunks)].join(",")}`,
    );
    const apply = JSON.parse(readFileSync(join(dir, "ota", "apply.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual([apply["version"], apply["file"], apply["algorithm"]], ["1.2.0", "package.tar.gz", "SHA256"]);
    assert.equal(
      createHash("sha256")
        .update(readFileSync(join(dir, "ota", "package.tar.gz")))
        .digest("hex"),
      createHash("sha256").update(pkg).digest("hex"),
    );
    assert.equal(existsSync(join(dir, "ota", "package.part")), false);
    assert.equal(emu.latest(GW_NAME)["current_sw_version"]?.value, VERSION);
  });
});

describe("OTA updater: refusals and resume", () => {
  let emu: Emulator;
  let rest: TbRest;
  let unit: Unit | undefined;
  let gwId: string;
  before(async () => {
    emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], maxPayloadSize: 8192 });
    rest = await tbRest(emu);
    gwId = emu.device(GW_NAME)?.id ?? "";
  });
  afterEach(async () => {
    await unit?.controller.stop();
    unit = undefined;
  });
  after(() => emu.stop());

  test("a package whose bytes do not match sw_checksum is refused: FAILED with the checksum in sw_error, nothing applied", async () => {
    const dir = tempDir("ota-bad-");
    const pkg = buildPackage({ version: "2.0.0" });
    await publishPackage(rest, GW_NAME, "rpi-tb-gateway", "2.0.0", pkg);
    // ThingsBoard refuses a wrong checksum at upload (OtaPackageDataValidator), so the corruption
    // is what the device sees: the shared sw_checksum no longer matches the bytes it receives.
    // (Not a digit string: ThingsBoard's JsonConverter would cast that to a number.)
    const saved = await rest.call("POST", `/api/plugins/telemetry/DEVICE/${gwId}/SHARED_SCOPE`, {
      sw_checksum: "f".repeat(64),
    });
    assert.equal(saved.status, 200);
    const before = states(emu).length;
    unit = await startUnit(emu, dir);
    await until(() => states(emu).slice(before).includes("FAILED"), "FAILED reported", 15_000);
    assert.deepEqual(states(emu).slice(before), ["DOWNLOADING", "DOWNLOADED", "FAILED"]);
    assert.match(lastError(emu), /^checksum mismatch: SHA256 of the download is [0-9a-f]{64}, sw_checksum is f{64}$/);
    assert.equal(unit.restarts(), 0);
    assert.equal(existsSync(join(dir, "ota", "apply.json")), false);
    assert.equal(existsSync(join(dir, "ota", "package.tar.gz")), false);
  });

  test("a package built for another CPU is refused after verification: FAILED naming both architectures", async () => {
    const dir = tempDir("ota-arch-");
    const other = process.arch === "arm64" ? "x64" : "arm64";
    await publishPackage(
      rest,
      GW_NAME,
      "rpi-tb-gateway",
      "3.0.0",
      buildPackage({ version: "3.0.0", arch: other }),
      "MURMUR3_128",
    );
    const before = states(emu).length;
    unit = await startUnit(emu, dir);
    await until(() => states(emu).slice(before).includes("FAILED"), "FAILED reported", 15_000);
    assert.deepEqual(states(emu).slice(before), ["DOWNLOADING", "DOWNLOADED", "VERIFIED", "FAILED"]);
    assert.equal(lastError(emu), `the package is built for ${other}; this unit is ${process.arch}`);
    assert.equal(unit.restarts(), 0);
    assert.equal(existsSync(join(dir, "ota", "apply.json")), false);
  });

  test("a package for another Node ABI is refused", async () => {
    const dir = tempDir("ota-abi-");
    await publishPackage(
      rest,
      GW_NAME,
      "rpi-tb-gateway",
      "3.1.0",
      buildPackage({ version: "3.1.0", nodeAbi: "1" }),
      "CRC32",
    );
    const before = states(emu).length;
    unit = await startUnit(emu, dir);
    await until(() => states(emu).slice(before).includes("FAILED"), "FAILED reported", 15_000);
    assert.match(lastError(emu), /^the package's native modules are for Node ABI 1; this unit runs ABI \d+/);
  });

  test("a download stopped half way resumes from the last whole chunk after a restart", async () => {
    const dir = tempDir("ota-resume-");
    const pkg = buildPackage({ version: "4.0.0" }, {}, 60_000);
    await publishPackage(rest, GW_NAME, "rpi-tb-gateway", "4.0.0", pkg, "MD5");
    const seen: number[] = [];
    let paused: Promise<void> | undefined;
    // After five chunks ThingsBoard goes away (listener closed, sessions dropped), so the first
    // run is surely stopped half way, whatever the speed of the machine.
    const onChunk = (_d: string, c: { chunk: number }) => {
      seen.push(c.chunk);
      if (seen.length === 5) paused = emu.pause();
    };
    emu.events.on("otaChunk", onChunk);
    try {
      const first = await startUnit(emu, dir, { chunkBytes: 2048 });
      await until(() => paused !== undefined, "five chunks served", 15_000);
      await paused;
      await first.controller.stop();
      await emu.resume();
      const firstRun = seen.length;
      assert.ok(existsSync(join(dir, "ota", "package.part")), "the partial download is kept");
      assert.equal(
        existsSync(join(dir, "ota", "package.tar.gz")),
        false,
        "a partial download never becomes the package",
      );
      unit = await startUnit(emu, dir, { chunkBytes: 2048 });
      await until(() => unit!.restarts() > 0, "restart for the update", 15_000);
      const secondRun = seen.slice(firstRun);
      // The second run starts where the first one stopped, not at chunk 0.
      assert.ok((secondRun[0] ?? 0) > 0, `second run started at chunk ${secondRun[0]}`);
      assert.ok((secondRun[0] ?? 0) <= firstRun);
      assert.equal(
        createHash("md5")
          .update(readFileSync(join(dir, "ota", "package.tar.gz")))
          .digest("hex"),
        createHash("md5").update(pkg).digest("hex"),
      );
    } finally {
      emu.events.off("otaChunk", onChunk);
    }
  });
});
