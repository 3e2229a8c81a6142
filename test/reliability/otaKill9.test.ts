// Power cut during an OTA download (issue 16): the real appliance (server/main.ts in a child
// process) is killed with SIGKILL while chunks arrive (v2/sw/request|response, MqttTopics.java /
// MqttTransportHandler.getOtaPackageCallback in ThingsBoard's source). The partial file is kept
// and never becomes the package; the next run resumes from the last whole chunk, verifies, and
// exits with 75, the code the unit's Restart=on-failure restarts on (the guard then applies it).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import { GW_NAME, GW_TOKEN, rawConfig, spawnApp, tempDir, writeConfigFile } from "../fakes/appHarness.ts";
import { buildPackage, publishPackage, tbRest } from "../fakes/otaPackage.ts";

describe("OTA: kill -9 during the download", () => {
  let emu: Emulator;
  const dir = tempDir("rel-ota-kill9-");
  before(async () => {
    emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], maxPayloadSize: 8192 });
  });
  after(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the partial download survives SIGKILL and the next run resumes, verifies and exits 75 for the switch", async () => {
    const raw = rawConfig(emu.mqttPort, dir);
    raw["gateway"] = { ...(raw["gateway"] as object), ota: { chunkBytes: 1024 } };
    const config = writeConfigFile(dir, raw);
    const pkg = buildPackage({ version: "5.0.0" }, {}, 150_000);
    await publishPackage(await tbRest(emu), GW_NAME, "rpi-tb-gateway", "5.0.0", pkg);
    const chunks: number[] = [];
    const first = spawnApp(config);
    const onChunk = (_d: string, c: { chunk: number }) => {
      chunks.push(c.chunk);
      if (chunks.length === 30) first.proc.kill("SIGKILL");
    };
    emu.events.on("otaChunk", onChunk);
    try {
      const end = await first.exited;
      assert.equal(end.signal, "SIGKILL");
      const part = path.join(dir, "ota", "package.part");
      assert.ok(fs.existsSync(part), "the partial download is kept");
      assert.ok(fs.statSync(part).size < pkg.length);
      assert.equal(
        fs.existsSync(path.join(dir, "ota", "package.tar.gz")),
        false,
        "a partial download never becomes the package",
      );
      const firstRun = chunks.length;
      const second = spawnApp(config);
      const done = await second.exited;
      assert.equal(done.code, 75, second.lines.slice(-10).join("\n"));
      const resumedAt = chunks[firstRun] ?? -1;
      assert.ok(resumedAt > 0 && resumedAt <= 30, `the second run started at chunk ${resumedAt}`);
      assert.equal(
        createHash("sha256")
          .update(fs.readFileSync(path.join(dir, "ota", "package.tar.gz")))
          .digest("hex"),
        createHash("sha256").update(pkg).digest("hex"),
      );
      const apply = JSON.parse(fs.readFileSync(path.join(dir, "ota", "apply.json"), "utf8")) as { version: string };
      assert.equal(apply.version, "5.0.0");
      // UPDATING was sent, or is in the durable outbox for the next start to send (before UPDATED).
      const delivered = emu.telemetry(GW_NAME, "sw_state").some((r) => r.values["sw_state"] === "UPDATING");
      const queued = ["outbox.sqlite", "outbox.sqlite-wal"]
        .map((f) => path.join(dir, f))
        .filter((f) => fs.existsSync(f))
        .some((f) => fs.readFileSync(f).includes('"sw_state":"UPDATING"'));
      assert.ok(delivered || queued, "UPDATING delivered or queued in the outbox");
    } finally {
      emu.events.off("otaChunk", onChunk);
    }
  });
});
