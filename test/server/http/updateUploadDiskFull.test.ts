// Real ENOSPC during a dashboard package upload: the data dir is a 1 MiB tmpfs mounted in a
// private mount namespace (the technique of test/server/outbox/outbox.enospc.test.ts; skipped
// where the sandbox forbids it). The check before the upload is covered by updateUpload.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tempDir } from "../../fakes/tempDir.ts";

const CHILD = fileURLToPath(new URL("./fixtures/uploadDiskFullChild.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

test(
  "the disk filling up during an upload: 507 saying so, the part removed, FAILED, nothing applied",
  { timeout: 40_000 },
  async (t) => {
    const dir = tempDir("tbgw-upload-full-");
    const args = [
      "-m",
      "sh",
      "-c",
      'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$1" --import tsx "$2" "$0"',
      dir,
      process.execPath,
      CHILD,
    ];
    const child = spawn("unshare", args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    const code = await new Promise<number | null>((resolve) => {
      child.on("error", (e) => {
        err += `spawn unshare: ${e.message}`;
        resolve(-1);
      });
      child.on("exit", (c) => resolve(c));
    });
    // Only the sandbox's refusals are skipped (they happen before node starts); any failure of ours fails.
    if (code !== 0 && out === "" && /^(unshare|mount)|spawn unshare|not permitted|permission denied/im.test(err)) {
      t.skip(`cannot mount a tmpfs here: ${err.trim().split("\n")[0] ?? code}`);
      return;
    }
    assert.equal(code, 0, `child failed: ${err}`);
    const answer = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    t.diagnostic(JSON.stringify(answer));
    assert.equal(answer["what"], "answer");
    assert.equal(answer["status"], 507);
    assert.match(
      String(answer["error"]),
      /^the disk filled up after \d+ of \d+ bytes; free some space and upload again$/,
    );
    assert.deepEqual(answer["files"], ["result.json"]);
    assert.equal(answer["applied"], false);
    assert.deepEqual(answer["states"], ["DOWNLOADING", "FAILED"]);
    assert.equal(answer["restarts"], 0);
  },
);
