// Fault test 2, kill -9 while offline with a backlog: the real appliance (server/main.ts) runs as
// a child process with a simulated BME280 read every 100 ms and reported every time, against the
// emulator in this process. ThingsBoard goes away, a backlog builds, the child is SIGKILLed, the
// server comes back and the child is started again.
//
// What the child produced cannot be observed from outside directly, so the test proves delivery
// in two independent ways:
//  1. exact: right after the kill, a copy of the outbox file is opened (the app's own recovery
//     code) and every Climate reading in it is listed; each one must arrive after the restart,
//     with its original ts, and the first arrivals must be in ts order;
//  2. completeness: the readings are 100 ms apart, so the Climate ts series that arrives must have
//     no hole wider than 3 intervals from the first reading up to kill - diskFlushMs - a margin
//     (what power loss may take), i.e. nothing was lost before it reached the disk.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import {
  CHILD_DEVICES,
  CLIMATE,
  CLIMATE_INTERVAL_MS,
  GW_NAME,
  GW_TOKEN,
  outboxRecords,
  rawConfig,
  spawnApp,
  summary,
  tempDir,
  writeConfigFile,
  type ChildApp,
} from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

const DISK_FLUSH_MS = 200;
let emu: Emulator;
const dir = tempDir("rel-kill9-");
const children: ChildApp[] = [];

before(async () => {
  emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], httpPort: null });
});
after(async () => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "SIGKILL while offline with a backlog: every reading that reached the disk arrives after restart",
  { timeout: 60_000 },
  async () => {
    const config = writeConfigFile(
      dir,
      rawConfig(emu.mqttPort, `${dir}/data`, { outbox: { diskFlushMs: DISK_FLUSH_MS }, devices: CHILD_DEVICES }),
    );
    const first = spawnApp(config);
    children.push(first);
    await until(() => emu.telemetry(CLIMATE, "temperature").length >= 5, "first Climate readings online", 20_000);

    await emu.pause();
    const pausedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const killedAt = Date.now();
    first.proc.kill("SIGKILL");
    const exit = await first.exited;
    assert.equal(exit.signal, "SIGKILL");

    const onDisk = outboxRecords(`${dir}/data`, CLIMATE);
    const diskTs = [...new Set(onDisk.map((r) => r.ts))].sort((a, b) => a - b);
    assert.ok(diskTs.length >= 10, `a backlog was on disk at the kill (${diskTs.length} readings)`);

    await emu.resume();
    const second = spawnApp(config);
    children.push(second);
    const arrivedTs = () => new Set(emu.telemetry(CLIMATE, "temperature").map((r) => r.ts));
    await until(
      () => diskTs.every((t) => arrivedTs().has(t)),
      `all ${diskTs.length} readings from the disk delivered`,
      20_000,
    ).catch(() => {});

    const arrivals = emu.telemetry(CLIMATE, "temperature").map((r) => r.ts);
    const got = new Set(arrivals);
    const lost = diskTs.filter((t) => !got.has(t));
    const dupCount = arrivals.length - got.size;
    // Completeness up to what power loss may take: no hole wider than 3 reading intervals.
    const horizon = killedAt - DISK_FLUSH_MS - 300;
    const series = [...got].filter((t) => t <= horizon).sort((a, b) => a - b);
    const holes: string[] = [];
    for (let i = 1; i < series.length; i++) {
      const gap = (series[i] as number) - (series[i - 1] as number);
      if (gap > 3 * CLIMATE_INTERVAL_MS) holes.push(`${gap} ms after ${series[i - 1]}`);
    }
    const lastBeforeKill = [...got].filter((t) => t <= killedAt).sort((a, b) => b - a)[0] ?? 0;
    summary(
      "kill -9 offline backlog",
      { produced: diskTs.length, delivered: diskTs.length - lost.length, lost: lost.length, duplicates: dupCount },
      `offline_ms=${killedAt - pausedAt} newest_reading_before_kill_ms=${killedAt - lastBeforeKill} holes=${holes.length}`,
    );
    assert.deepEqual(lost, [], "every reading in the outbox at the kill was delivered");
    assert.deepEqual(holes, [], "no reading older than diskFlushMs was lost");
    assert.ok(
      killedAt - lastBeforeKill <= DISK_FLUSH_MS + 3 * CLIMATE_INTERVAL_MS + 200,
      `the last ${killedAt - lastBeforeKill} ms before the kill at most are lost`,
    );
    // First arrivals in order: the series as first seen is sorted.
    const firstSeen = arrivals.filter((t, i) => arrivals.indexOf(t) === i);
    assert.deepEqual(
      firstSeen,
      [...firstSeen].sort((a, b) => a - b),
      "readings first arrive in ts order",
    );

    second.proc.kill("SIGTERM");
    assert.equal((await second.exited).code, 0);
  },
);
