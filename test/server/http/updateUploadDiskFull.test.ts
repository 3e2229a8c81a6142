// Real ENOSPC during a dashboard package upload: the data dir is a 1 MiB tmpfs mounted in a
// private mount namespace (the technique of test/server/outbox/outbox.enospc.test.ts; skipped
// where the sandbox forbids it). The check before the upload is covered by updateUpload.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runOnTinyTmpfs } from "../../fakes/tinyTmpfs.ts";
import { tempDir } from "../../fakes/tempDir.ts";

const CHILD = fileURLToPath(new URL("./fixtures/uploadDiskFullChild.ts", import.meta.url));

test(
  "the disk filling up during an upload: 507 saying so, the part removed, FAILED, nothing applied",
  { timeout: 40_000 },
  async (t) => {
    const dir = tempDir("tbgw-upload-full-");
    const run = await runOnTinyTmpfs(CHILD, dir);
    if (run.skipped !== undefined) {
      t.skip(run.skipped);
      return;
    }
    const { code, out, err } = run;
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
