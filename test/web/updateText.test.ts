// The dashboard's "Software update" rows (web/src/updateText.ts, issue 16) for each state the
// updater reports.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { updateText } from "../../web/src/updateText.ts";

const running = { title: "rpi-tb-gateway", version: "1.0.0" };

describe("dashboard: software update text", () => {
  test("off, idle, downloading with progress, on trial", () => {
    assert.deepEqual(updateText(null), { now: "off (gateway.ota.enabled)", last: "–" });
    assert.deepEqual(updateText({ running, trial: false }), { now: "none", last: "–" });
    const target = { title: "rpi-tb-gateway", version: "1.2.0", size: 4000 };
    assert.equal(
      updateText({ running, trial: false, state: "DOWNLOADING", target, received: 1000 }).now,
      "1.2.0: downloading 25 %",
    );
    assert.equal(
      updateText({ running, trial: false, state: "VERIFIED", target, received: 4000 }).now,
      "1.2.0: verified",
    );
    assert.equal(
      updateText({ running, trial: false, state: "UPDATING", target, received: 4000 }).now,
      "1.2.0: restarting to apply",
    );
    assert.equal(
      updateText({ running: { ...running, version: "1.2.0" }, trial: true }).now,
      "1.2.0 on trial (rolled back unless healthy)",
    );
  });

  test("a package uploaded on the dashboard: received before its version is known, then by version", () => {
    const source = { kind: "upload" as const, by: "admin at 192.168.1.20" };
    const target = { title: "rpi-tb-gateway", version: "(upload)", size: 2000 };
    assert.equal(
      updateText({ running, trial: false, state: "DOWNLOADING", target, received: 500, source }).now,
      "uploaded package: receiving 25 %",
    );
    const failed = updateText({
      running,
      trial: false,
      state: "FAILED",
      last: { state: "FAILED", title: "", version: "", error: "not a release package", ts: 1, source },
    });
    assert.equal(failed.last, "package failed: not a release package (uploaded by admin at 192.168.1.20)");
    const updated = updateText({
      running: { ...running, version: "1.2.0" },
      trial: false,
      last: { state: "UPDATED", title: "rpi-tb-gateway", version: "1.2.0", ts: 1, source },
    });
    assert.equal(updated.last, "1.2.0 updated (uploaded by admin at 192.168.1.20)");
  });

  test("the last result, updated or failed with its reason", () => {
    assert.equal(
      updateText({
        running,
        trial: false,
        last: { state: "UPDATED", title: "rpi-tb-gateway", version: "1.2.0", ts: 1 },
      }).last,
      "1.2.0 updated",
    );
    const failed = updateText({
      running,
      trial: false,
      state: "FAILED",
      error: "checksum mismatch",
      last: { state: "FAILED", title: "rpi-tb-gateway", version: "1.3.0", error: "checksum mismatch", ts: 1 },
    });
    assert.deepEqual(failed, { now: "none", last: "1.3.0 failed: checksum mismatch" });
  });
});
