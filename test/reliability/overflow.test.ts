// Fault test 7, overflow policy end to end: ThingsBoard is away from the start and the outbox
// may use only ~96 KB of disk. The appliance keeps producing; once the budget is full the oldest
// messages are dropped (and counted in outbox.status().dropped), the newest kept. When the server
// comes back, what arrives is exactly a contiguous run of the newest readings, in order.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../scripts/emulator/index.ts";
import {
  analyse,
  ArrivalRecorder,
  GW_NAME,
  GW_TOKEN,
  rawConfig,
  SeqProducer,
  startApp,
  summary,
  tempDir,
  type AppHarness,
} from "../fakes/appHarness.ts";
import { until } from "../fakes/waitFor.ts";

const MAX_DISK_MB = 0.09375; // 96 KiB
let emu: Emulator;
let app: AppHarness;
const dir = tempDir("rel-overflow-");

before(async () => {
  emu = await startEmulator({ gateways: [{ name: GW_NAME, accessToken: GW_TOKEN }], httpPort: null });
  await emu.pause();
  app = await startApp(
    rawConfig(emu.mqttPort, dir, {
      outbox: { diskFlushMs: 50, maxDiskMb: MAX_DISK_MB, memoryMaxMessages: 10 },
      thingsboard: { flushIntervalMs: 10 },
    }),
  );
});

after(async () => {
  await app?.stop();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "a full disk budget drops the oldest messages, counts them, and keeps the newest",
  { timeout: 30_000 },
  async () => {
    const outbox = app.controller.outbox;
    assert.ok(outbox);
    // ~200 bytes a reading, 500 readings/s: the budget is full within a second.
    const producer = new SeqProducer(app.controller.bus, ["Ovf A"], 500, { pad: "x".repeat(160) });
    producer.start();
    await until(() => outbox.status().dropped >= 50, "drops under the disk budget", 10_000);
    await new Promise((r) => setTimeout(r, 500));
    producer.stop();
    // Let the last readings reach the disk, then look at the budget.
    await new Promise((r) => setTimeout(r, 200));
    const st = outbox.status();
    const dbBytes = statSync(join(dir, "outbox.sqlite")).size;
    // The budget bounds the rows; SQLite adds page granularity and b-tree pages on top, and the -wal
    // file is bounded separately (journal_size_limit 4 MiB, autocheckpoint at 1000 pages).
    assert.ok(
      dbBytes <= MAX_DISK_MB * 1024 * 1024 + 64 * 1024,
      `database file stays within the budget plus page slack (${dbBytes} bytes)`,
    );
    assert.ok(st.diskBytes - dbBytes <= 4.5 * 1024 * 1024, `write-ahead log bounded (${st.diskBytes - dbBytes} bytes)`);

    const rec = new ArrivalRecorder();
    rec.attach(emu);
    await emu.resume();
    await app.ready(1, 10_000);
    await until(() => outbox.status().queued === 0, "backlog drained", 10_000);

    const r = analyse(producer.produced, rec.arrivals);
    const seqs = [...new Set(rec.arrivals.map((a) => a.seq))].sort((a, b) => a - b);
    const first = seqs[0] ?? -1;
    summary(
      "overflow maxDiskMb=0.094 offline",
      r,
      `dropped_messages=${st.dropped} kept_readings=${seqs.length} db_bytes=${dbBytes} db+wal_bytes=${st.diskBytes}`,
    );
    assert.ok(st.dropped > 0, "drops are counted in the status");
    assert.ok(r.lost > 0, "some readings were dropped");
    assert.equal(seqs.at(-1), producer.count - 1, "the newest reading is kept");
    assert.deepEqual(
      seqs,
      Array.from({ length: producer.count - first }, (_, i) => first + i),
      "what is kept is the newest contiguous run: only the oldest were dropped",
    );
    assert.deepEqual(r.outOfOrder, []);
    assert.equal(r.wrongTs, 0);
    assert.ok(
      app.records.some((x) => x.level === "warn" || x.level === "error"),
      "the drops are logged",
    );
  },
);
