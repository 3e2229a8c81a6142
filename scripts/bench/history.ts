// Scenario: the chart history's cost (issue 14). The HistoryRecorder in-process on a temp file with
// a fake clock: the time record() adds on the bus event per device reading (3 keys into 3 tiers),
// the time of one 10 s flush of 200 devices' open buckets (the write that runs on the timer, off
// the telemetry path), and the bytes on disk per series.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventBus } from "../../server/eventBus.ts";
import type { DeviceSnapshot } from "../../server/events.ts";
import { HistoryRecorder } from "../../server/history/historyRecorder.ts";
import { silentLogger } from "../../server/util/logger.ts";
import { row, type BenchRow, type Scenario, type ScenarioContext } from "./common.ts";

const NAME = "history";

async function run(ctx: ScenarioContext): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "tbgw-bench-history-"));
  const file = join(dir, "history.db");
  let now = Date.UTC(2026, 0, 1);
  const rec = new HistoryRecorder({
    bus: new EventBus(),
    log: silentLogger(),
    file,
    now: () => now,
    flushMs: 1e9,
    pruneMs: 1e9,
  });
  rec.start();
  try {
    const devices = 30; // 90 series: inside the 100-series cap
    const snaps: DeviceSnapshot[] = Array.from({ length: devices }, (_, i) => ({
      id: `d${i}`,
      name: `d${i}`,
      profile: "p",
      kind: "sensor",
      units: {},
      values: { temperature: 20, humidity: 40, pressure: 1013 },
      updatedAt: 0,
      health: "ok",
    }));
    const hours = ctx.quick ? 2 : 12;
    let readings = 0;
    let recordNs = 0n;
    let flushNs = 0n;
    let flushes = 0;
    // Every device reads every 2 s (the demo's interval); a flush every 10 s, as in the appliance.
    for (let t = 0; t < hours * 3_600_000; t += 2000) {
      now += 2000;
      const r0 = process.hrtime.bigint();
      for (const s of snaps) {
        s.updatedAt = now;
        s.values["temperature"] = 20 + Math.sin(now / 6e5);
        rec.record(s);
      }
      recordNs += process.hrtime.bigint() - r0;
      readings += devices;
      if (t % 10_000 === 0) {
        const f0 = process.hrtime.bigint();
        rec.flush();
        flushNs += process.hrtime.bigint() - f0;
        flushes++;
      }
    }
    rec.stop();
    const bytes = statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    ctx.progress(`${readings} readings of ${devices} devices over ${hours} h simulated, ${flushes} flushes`);
    return [
      row(
        NAME,
        "record() per device reading (3 keys, 3 tiers), on the bus event",
        Number(recordNs) / 1000 / readings,
        "µs",
      ),
      row(
        NAME,
        `flush of ${devices * 3} series' open buckets (every 10 s, on a timer)`,
        Number(flushNs) / 1e6 / flushes,
        "ms",
      ),
      row(NAME, `disk after ${hours} h, per series`, bytes / (devices * 3) / 1024, "KB", {
        note: "a full month per series measured 0.67 MB (server/history/tiers.ts)",
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const historyScenario: Scenario = {
  name: NAME,
  describe: "chart history: record() cost on the bus event, flush time, disk per series",
  run,
};
