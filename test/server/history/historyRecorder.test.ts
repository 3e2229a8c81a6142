// The appliance's chart history: buckets per tier, the range -> tier choice, what survives a
// restart (a real SQLite file in a temp dir), retention and the series cap. Fake clock throughout.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EventBus } from "../../../server/eventBus.ts";
import type { DeviceSnapshot } from "../../../server/events.ts";
import { HistoryDb } from "../../../server/history/historyDb.ts";
import { HistoryRecorder } from "../../../server/history/historyRecorder.ts";
import { MAX_SERIES, tierFor } from "../../../server/history/tiers.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { tempDir } from "../../fakes/tempDir.ts";

const T0 = Date.UTC(2026, 10, 29, 8, 0, 0);

function snap(id: string, values: DeviceSnapshot["values"], updatedAt: number): DeviceSnapshot {
  return { id, name: `unit ${id}`, profile: "p", kind: "sensor", units: {}, values, updatedAt, health: "ok" };
}

function rig(file = join(tempDir("tbgw-hist-"), "history.db"), now = T0) {
  const clock = { now };
  const bus = new EventBus(silentLogger());
  const rec = new HistoryRecorder({
    bus,
    log: silentLogger(),
    file,
    now: () => clock.now,
    flushMs: 3_600_000,
    pruneMs: 3_600_000,
  });
  rec.start();
  return { rec, bus, clock, file };
}

describe("HistoryRecorder", () => {
  test("picks the tier per range: 1 h at 10 s, 24 h at 1 min, 7 d at 10 min", () => {
    assert.equal(tierFor("1h").bucketMs, 10_000);
    assert.equal(tierFor("24h").bucketMs, 60_000);
    assert.equal(tierFor("7d").bucketMs, 600_000);
  });

  test("numeric values from the bus become bucket averages; other values and repeats are not counted", () => {
    const { rec, bus, clock } = rig();
    // 30 s of readings every 2 s: three 10 s buckets.
    for (let i = 0; i < 15; i++)
      bus.emit("deviceUpdated", snap("env", { temperature: 20 + i, label: "x", ok: true }, T0 + i * 2000));
    // The same snapshot again (a health change re-emits it): no new reading.
    bus.emit("deviceUpdated", snap("env", { temperature: 99 }, T0 + 14 * 2000));
    clock.now = T0 + 60_000;
    const h = rec.query("env", "1h");
    assert.deepEqual(Object.keys(h.series), ["temperature"]);
    const t = h.series["temperature"]!;
    assert.deepEqual(t.ts, [T0, T0 + 10_000, T0 + 20_000]);
    assert.deepEqual(t.avg, [22, 27, 32]); // (20..24)/5, (25..29)/5, (30..34)/5
    assert.deepEqual(t.min, [20, 25, 30]);
    assert.deepEqual(t.max, [24, 29, 34]);
    const day = rec.query("env", "24h");
    assert.equal(day.stepMs, 60_000);
    assert.deepEqual(day.series["temperature"]!.avg, [27]);
    assert.equal(rec.stats.readings, 15);
    rec.stop();
  });

  test("history survives a restart, and a bucket open at shutdown is merged with what comes after", () => {
    const first = rig();
    first.bus.emit("deviceUpdated", snap("env", { pressure: 1000 }, T0 + 1000));
    first.bus.emit("deviceUpdated", snap("env", { pressure: 1002 }, T0 + 3000));
    first.rec.stop(); // writes the open bucket
    const second = rig(first.file);
    second.bus.emit("deviceUpdated", snap("env", { pressure: 1006 }, T0 + 5000));
    second.clock.now = T0 + 20_000;
    const h = second.rec.query("env", "1h").series["pressure"]!;
    assert.deepEqual(h.ts, [T0]);
    assert.deepEqual(h.avg, [1002.67]); // (1000 + 1002 + 1006) / 3, 6 significant digits
    assert.deepEqual([h.min, h.max], [[1000], [1006]]);
    second.rec.stop();
  });

  test("each range only returns its window, and pruning drops what no tier keeps", () => {
    const { rec, bus, clock, file } = rig();
    for (let h = 0; h < 40 * 24; h += 6) bus.emit("deviceUpdated", snap("env", { lux: h }, T0 + h * 3_600_000));
    clock.now = T0 + 40 * 24 * 3_600_000;
    rec.flush();
    const week = rec.query("env", "7d").series["lux"]!;
    assert.ok(
      week.ts.every((ts) => ts >= clock.now - 7 * 24 * 3_600_000),
      "7 d view starts 7 d ago",
    );
    assert.equal(week.ts.length, 28); // every 6 h from 33 d to 39.75 d
    assert.equal(rec.query("env", "1h").series["lux"], undefined, "nothing in the last hour");
    rec.stop();
    const rowsIn = (f: string) => {
      const db = HistoryDb.open(f, silentLogger());
      try {
        return db.rowCount();
      } finally {
        db.close();
      }
    };
    // 160 readings, each in its own bucket of all three tiers.
    assert.equal(rowsIn(file), 3 * 160);
    // Reopening then prunes what no tier keeps: the fine tier keeps 1 d (4 readings), the medium 2 d (8), the coarse 31 d (124).
    rig(file, clock.now).rec.stop();
    assert.equal(rowsIn(file), 4 + 8 + 124);
  });

  test("at most MAX_SERIES series are recorded; forget() removes a device's history", () => {
    const { rec, bus, clock } = rig();
    const values: Record<string, number> = {};
    for (let i = 0; i < MAX_SERIES + 5; i++) values[`k${i}`] = i;
    bus.emit("deviceUpdated", snap("wide", values, T0));
    bus.emit("deviceUpdated", snap("env", { temperature: 1 }, T0));
    clock.now = T0 + 1000;
    assert.equal(Object.keys(rec.query("wide", "1h").series).length, MAX_SERIES);
    assert.equal(rec.stats.skippedSeries, 6);
    rec.forget("wide");
    assert.deepEqual(rec.query("wide", "1h").series, {});
    rec.stop();
  });

  test("an unreadable history file is moved aside and a clean one started", () => {
    const dir = tempDir("tbgw-hist-");
    const file = join(dir, "history.db");
    writeFileSync(file, "this is not a database".repeat(100));
    const { rec, bus, clock } = rig(file);
    bus.emit("deviceUpdated", snap("env", { temperature: 5 }, T0));
    clock.now = T0 + 1000;
    assert.deepEqual(rec.query("env", "1h").series["temperature"]!.avg, [5]);
    rec.stop();
    assert.ok(readdirSync(dir).some((f) => f.startsWith("history.db.corrupt-")));
    assert.ok(existsSync(file));
  });
});
