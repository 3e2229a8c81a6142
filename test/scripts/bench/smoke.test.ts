// Keeps the benchmark scripts from rotting: one tiny throughput run (emulator child, bridge rig,
// producer, bare client) end to end, the table formatting, and the runner's argument check.
// Speed is never asserted here; that is what `npm run bench` reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTable, percentile, row } from "../../../scripts/bench/common.ts";
import { runBench } from "../../../scripts/bench/run.ts";
import { measureThroughput } from "../../../scripts/bench/throughput.ts";

test(
  "a tiny throughput run delivers and acknowledges readings through the real pipeline",
  { timeout: 60_000 },
  async () => {
    const r = await measureThroughput(5, 200, 400, 20_000);
    assert.equal(r.devices, 5);
    assert.ok(r.ackedPerSec > 0, "readings were acknowledged");
    assert.ok(r.deliveredPerSec > 0, "the emulator counted delivered points");
    assert.ok(r.bare.points > 0, "the bare client published the captured payloads");
    assert.ok(Number.isFinite(r.bridgeCpuPer100k) && r.bridgeCpuPer100k > 0);
  },
);

test("the table lists every row with its target verdict", () => {
  const text = formatTable([
    row("s", "m1", 123456.7, "dp/s", { target: ">= 100000", met: true }),
    row("s", "m2", 0.5, "x", { target: ">= 0.8", met: false }),
  ]);
  const lines = text.split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[2] as string, /m1\s+123457\s+dp\/s\s+>= 100000\s+yes/);
  assert.match(lines[3] as string, /m2\s+0\.5\s+x\s+>= 0\.8\s+NO/);
});

test("percentiles use the nearest rank", () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(samples, 50), 50);
  assert.equal(percentile(samples, 99), 99);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test("an unknown scenario name is refused before anything runs", async () => {
  await assert.rejects(
    runBench(["nope"], true, () => {}),
    /unknown scenario nope; known: throughput, latency, rpc, backlog, footprint, dashboard/,
  );
});
