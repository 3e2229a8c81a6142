import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Outbox } from "../../../server/outbox/outbox.ts";
import { indexOf, range, tempDir } from "./helpers.ts";

const CHILD = fileURLToPath(new URL("./fixtures/outboxChild.ts", import.meta.url));

test("kill -9 loses nothing that was reported flushed, and leaves no gaps", { timeout: 20_000 }, async (t) => {
  const dir = tempDir();
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, "40"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  // If the test fails before its own SIGKILL, the child would run on and keep the test file's
  // process (and the whole run) alive forever through its stdout pipe.
  t.after(() => child.kill("SIGKILL"));
  const target = 1500;
  let last = { flushed: 0, produced: 0 };
  let buffered = "";
  const reached = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`child did not flush ${target} messages in time (last ${JSON.stringify(last)})`)),
      15_000,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        last = JSON.parse(line) as typeof last;
        if (last.flushed >= target) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
  });
  await reached;
  child.kill("SIGKILL");
  await once(child, "exit");

  const ob = Outbox.open({ dir });
  const recovered = ob.take(1_000_000).map((m) => indexOf(m.payload));
  ob.close();
  t.diagnostic(`produced >= ${last.produced}, reported flushed ${last.flushed}, recovered ${recovered.length}`);
  assert.ok(recovered.length >= last.flushed, "every message reported as flushed survived");
  assert.deepEqual(
    recovered,
    range(0, recovered.length - 1),
    "recovered messages are the oldest, in order, with no gaps",
  );
});
