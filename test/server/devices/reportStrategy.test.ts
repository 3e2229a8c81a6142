import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { reportSchema } from "../../../server/config/schema.ts";
import { Reporter } from "../../../server/devices/reportStrategy.ts";

describe("report strategies", () => {
  test("every: each reading", () => {
    const r = new Reporter(reportSchema.parse({ strategy: "every" }));
    assert.deepEqual(r.select({ t: 1 }, 0), { t: 1 });
    assert.deepEqual(r.select({ t: 1 }, 1), { t: 1 });
  });

  test("onChange: only changes beyond the threshold, per-key thresholds win", () => {
    const r = new Reporter(reportSchema.parse({ strategy: "onChange", threshold: 0.5, thresholds: { h: 2 } }));
    assert.deepEqual(r.select({ t: 20, h: 50, s: "a" }, 0), { t: 20, h: 50, s: "a" });
    assert.deepEqual(r.select({ t: 20.4, h: 51, s: "a" }, 1), {});
    assert.deepEqual(r.select({ t: 20.5, h: 51.9, s: "b" }, 2), { t: 20.5, s: "b" });
    assert.deepEqual(r.select({ t: 20.5, h: 52, s: "b" }, 3), { h: 52 });
  });

  test("onChange with no threshold: any difference counts; objects compare by value", () => {
    const r = new Reporter(reportSchema.parse({ strategy: "onChange" }));
    assert.deepEqual(r.select({ t: 1, o: { a: 1 } }, 0), { t: 1, o: { a: 1 } });
    assert.deepEqual(r.select({ t: 1, o: { a: 1 } }, 1), {});
    assert.deepEqual(r.select({ t: 1.0001, o: { a: 2 } }, 2), { t: 1.0001, o: { a: 2 } });
  });

  test("onChangeOrPeriod: unchanged values are re-sent once the period has passed", () => {
    const r = new Reporter(reportSchema.parse({ strategy: "onChangeOrPeriod", threshold: 1, periodSec: 10 }));
    assert.deepEqual(r.select({ t: 5 }, 0), { t: 5 });
    assert.deepEqual(r.select({ t: 5.5 }, 9_999), {});
    assert.deepEqual(r.select({ t: 5.5 }, 10_000), { t: 5.5 });
    assert.deepEqual(r.select({ t: 5.6 }, 10_001), {});
  });

  test("reset forgets what was sent", () => {
    const r = new Reporter(reportSchema.parse({ strategy: "onChange" }));
    r.select({ t: 1 }, 0);
    r.reset();
    assert.deepEqual(r.select({ t: 1 }, 1), { t: 1 });
  });
});
