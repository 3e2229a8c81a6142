// Scenario 4, backlog replay: readings pile up in the outbox while ThingsBoard is unreachable
// (at a realistic message size: one bridge flush of 200 devices at 1 Hz = 20 readings, 80 points,
// a disk transaction per 5 flushes as the outbox's 500 ms tick does), then the bridge connects and
// drains with the server's rate limits off. Bytes written per point offline, drain rate, RSS.
import { statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startRig } from "./bridgeRig.ts";
import { atLeast, bytesWritten, row, waitUntil, type BenchRow, type Scenario, type ScenarioContext } from "./common.ts";
import { EmulatorProcess } from "./emulatorProcess.ts";
import { READING_KEYS } from "./producer.ts";

const NAME = "backlog";
const DEVICES = 200;
const RECORDS_PER_FLUSH = 20;
const FLUSHES_PER_DISK_WRITE = 5;
const SIMULATED_FLUSH_MS = 100;

export interface BacklogRun {
  points: number;
  messages: number;
  buildSeconds: number;
  bytesWrittenPerPoint: number | null;
  fileBytesPerPoint: number;
  drainSeconds: number;
  pointsPerSec: number;
  delivered: number;
  rssBeforeMb: number;
  rssMaxMb: number;
}

function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

export async function measureBacklog(points: number, progress: (m: string) => void): Promise<BacklogRun> {
  const emu = await EmulatorProcess.start();
  const rig = await startRig({ port: emu.mqttPort });
  try {
    const names = Array.from({ length: DEVICES }, (_, i) => `backlog-dev-${String(i).padStart(3, "0")}`);
    const flushes = Math.ceil(points / (RECORDS_PER_FLUSH * READING_KEYS.length));
    const start = Date.now() - flushes * SIMULATED_FLUSH_MS;
    const w0 = bytesWritten();
    const t0 = performance.now();
    let record = 0;
    for (let f = 0; f < flushes; f++) {
      const ts = start + f * SIMULATED_FLUSH_MS;
      for (let r = 0; r < RECORDS_PER_FLUSH; r++, record++) {
        const v = (record % 1000) / 100;
        rig.bus.emit("telemetry", names[record % DEVICES] as string, {
          ts,
          values: { temperature: 21 + v, humidity: 45 + v, pressure: 1013 + v, battery: 90 + (record % 10) },
        });
      }
      rig.bridge.flush();
      if (f % FLUSHES_PER_DISK_WRITE === FLUSHES_PER_DISK_WRITE - 1) rig.outbox.flush();
      // Let the outbox's own timer and I/O callbacks run now and then, as they would.
      if (f % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    rig.outbox.flush();
    const buildSeconds = (performance.now() - t0) / 1000;
    const w1 = bytesWritten();
    const total = record * READING_KEYS.length;
    const file = join(rig.dir, "outbox.sqlite");
    const fileBytes = fileSize(file) + fileSize(`${file}-wal`);
    const status = rig.outbox.status();
    progress(
      `backlog: ${total} points in ${status.queued} messages (${status.onDisk} on disk) built in ${buildSeconds.toFixed(1)} s; draining`,
    );

    const c0 = await emu.counts();
    const rssBefore = process.memoryUsage.rss();
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage.rss())), 100);
    const d0 = performance.now();
    rig.connect();
    await waitUntil(
      () => rig.bridge.sender.stats.pointsAcked >= total,
      `${total} backlog points acknowledged`,
      600_000,
      20,
    );
    const drainSeconds = (performance.now() - d0) / 1000;
    clearInterval(sampler);
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
    const c1 = await emu.counts();
    return {
      points: total,
      messages: status.queued,
      buildSeconds,
      bytesWrittenPerPoint: w0 !== null && w1 !== null ? (w1 - w0) / total : null,
      fileBytesPerPoint: fileBytes / total,
      drainSeconds,
      pointsPerSec: total / drainSeconds,
      delivered: c1.points - c0.points,
      rssBeforeMb: rssBefore / 2 ** 20,
      rssMaxMb: rssMax / 2 ** 20,
    };
  } finally {
    await rig.stop();
    await emu.stop();
  }
}

export const backlogScenario: Scenario = {
  name: NAME,
  describe: "build 100k / 1M points offline, then connect and drain (rate limits off)",
  async run(ctx: ScenarioContext): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const points of ctx.quick ? [100_000] : [100_000, 1_000_000]) {
      const label = points >= 1e6 ? `${points / 1e6}M` : `${points / 1e3}k`;
      ctx.progress(`backlog: ${label} points`);
      const r = await measureBacklog(points, (m) => ctx.progress(m));
      rows.push(
        row(NAME, `${label}: written to disk per point while offline`, r.bytesWrittenPerPoint ?? Number.NaN, "B/dp", {
          note: "write() bytes, /proc/self/io wchar",
        }),
      );
      rows.push(row(NAME, `${label}: outbox file + WAL per point`, r.fileBytesPerPoint, "B/dp"));
      rows.push(
        row(
          NAME,
          `${label}: drain rate (connect to last PUBACK)`,
          r.pointsPerSec,
          "dp/s",
          atLeast(r.pointsPerSec, 50_000),
        ),
      );
      rows.push(row(NAME, `${label}: drain time (${r.messages} queued messages)`, r.drainSeconds, "s"));
      rows.push(row(NAME, `${label}: delivered / queued`, r.delivered / r.points, "x"));
      // The bench process also holds tsx and the earlier scenarios' heap, so growth is the telling figure.
      rows.push(
        row(NAME, `${label}: RSS growth during drain`, r.rssMaxMb - r.rssBeforeMb, "MB", {
          note: `bench process ${r.rssBeforeMb.toFixed(0)} -> ${r.rssMaxMb.toFixed(0)} MB`,
        }),
      );
    }
    return rows;
  },
};
