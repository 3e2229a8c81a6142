// The updater's disk-space check before a ThingsBoard download (docs/ota-updates.md: 5x the
// package + 20 MB free in the data dir), through the free-space hook: refused with sw_error before
// a single chunk is asked for; taken when there is room. The same rule refuses a dashboard upload
// (test/server/http/updateUpload.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { testUpdater } from "../../../fakes/otaLink.ts";
import { until } from "../../../fakes/waitFor.ts";
import { tempDir } from "../../../fakes/tempDir.ts";

const MB = 1048576;
const assigned = {
  sw_title: "rpi-tb-gateway",
  sw_version: "2.0.0",
  sw_size: 10 * MB,
  sw_checksum: "b".repeat(64),
  sw_checksum_algorithm: "SHA256",
};

test("a package that would not fit is refused before the download: FAILED with the figures, no chunk asked for", async () => {
  const dir = tempDir("ota-space-");
  const asked: string[] = [];
  // 70 MB needed (5 x 10 MB + 20 MB); one byte less is free.
  const unit = testUpdater(dir, {
    freeBytes: async (d) => {
      asked.push(d);
      return 70 * MB - 1;
    },
  });
  try {
    unit.link.shared = assigned;
    unit.updater.onReady();
    await until(() => unit.link.states().includes("FAILED"), "FAILED reported");
    assert.deepEqual(unit.link.states(), ["FAILED"]);
    assert.equal(
      unit.link.lastError(),
      `not enough disk space: 70 MB free in ${join(dir, "ota")}, 70 MB needed (5x the package + 20 MB)`,
    );
    assert.deepEqual(asked, [join(dir, "ota")]);
    assert.deepEqual(unit.link.published, []);
    assert.equal(existsSync(join(dir, "ota", "package.part")), false);
    assert.equal(unit.updater.status().last?.state, "FAILED");
  } finally {
    unit.updater.stop();
  }
});

test("with exactly 5x the package + 20 MB free, the download starts", async () => {
  const dir = tempDir("ota-space-");
  const unit = testUpdater(dir, { freeBytes: async () => 70 * MB });
  try {
    unit.link.shared = assigned;
    unit.updater.onReady();
    await until(() => unit.link.published.length > 0, "the first chunk request");
    assert.equal(unit.link.published[0]?.topic, "v2/sw/request/1/chunk/0");
    assert.deepEqual(unit.link.states(), ["DOWNLOADING"]);
  } finally {
    unit.updater.stop();
  }
});
