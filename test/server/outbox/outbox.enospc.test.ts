// Real ENOSPC: the outbox directory is a 1 MiB tmpfs mounted in a private mount namespace (needs root or
// unprivileged user namespaces; skipped where the sandbox forbids it). The pragma-based test in
// outbox.recovery.test.ts covers the same logic everywhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runOnTinyTmpfs } from "../../fakes/tinyTmpfs.ts";
import { tempDir } from "./helpers.ts";

const CHILD = fileURLToPath(new URL("./fixtures/outboxDiskFullChild.ts", import.meta.url));

interface Report {
  what: string;
  status?: { queued: number; onDisk: number; dropped: number; diskFull: boolean };
  produced?: number;
  queued?: number;
  ordered?: boolean;
}

test(
  "a really full filesystem (ENOSPC on tmpfs) sets diskFull without crashing, and recovers when space returns",
  { timeout: 30_000 },
  async (t) => {
    const dir = tempDir();
    const run = await runOnTinyTmpfs(CHILD, dir);
    if (run.skipped !== undefined) {
      t.skip(run.skipped);
      return;
    }
    const { code, out, err } = run;
    const reports = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Report);
    t.diagnostic(out.trim());
    assert.equal(code, 0, `child failed: ${err}`);
    const full = reports.find((r) => r.what === "full");
    const recovered = reports.find((r) => r.what === "recovered");
    const reopened = reports.find((r) => r.what === "reopened");
    assert.ok(full?.status && recovered?.status && reopened, "full, then recovered, then reopened");
    assert.equal(full.status.diskFull, true);
    assert.ok(full.status.queued > 0);
    assert.equal(recovered.status.diskFull, false);
    assert.equal(recovered.status.dropped + recovered.status.queued, recovered.produced, "nothing vanished uncounted");
    assert.equal(reopened.queued, recovered.status.queued, "after close, everything still queued is on disk");
    assert.equal(reopened.ordered, true);
  },
);
