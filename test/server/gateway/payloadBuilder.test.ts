import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PayloadBuilder } from "../../../server/gateway/payloadBuilder.ts";
import type { KeyValues, TsRecord } from "../../../server/gateway/protocol.ts";
import { rng } from "../../fakes/rng.ts";

describe("PayloadBuilder", () => {
  test("coalesces many devices into one gateway telemetry message", () => {
    const b = new PayloadBuilder(65536);
    const m = new Map<string, TsRecord[]>([
      [
        "A",
        [
          { ts: 1, values: { t: 1 } },
          { ts: 2, values: { t: 2, h: 3 } },
        ],
      ],
      ["B", [{ ts: 1, values: { x: "y" } }]],
    ]);
    const out = b.telemetry(m);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.topic, "v1/gateway/telemetry");
    assert.equal(out[0]?.points, 4);
    assert.deepEqual(JSON.parse(out[0]!.payload), {
      A: [
        { ts: 1, values: { t: 1 } },
        { ts: 2, values: { t: 2, h: 3 } },
      ],
      B: [{ ts: 1, values: { x: "y" } }],
    });
  });

  test("never emits an empty array or an empty record", () => {
    const b = new PayloadBuilder(65536);
    const out = b.telemetry(
      new Map([
        ["A", [{ ts: 1, values: {} }]],
        ["B", []],
      ]),
    );
    assert.deepEqual(out, []);
  });

  test("random batches: every message fits the limit, nothing is lost, order per device is kept", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const limit = 512 + Math.floor(r() * 4000);
      const b = new PayloadBuilder(limit);
      const input = new Map<string, TsRecord[]>();
      let points = 0;
      for (let d = 0; d < 1 + Math.floor(r() * 30); d++) {
        const name = `dev-${d}-${"é".repeat(Math.floor(r() * 3))}`;
        const recs: TsRecord[] = [];
        for (let i = 0; i < Math.floor(r() * 40); i++) {
          const values: KeyValues = {};
          for (let k = 0; k < 1 + Math.floor(r() * (r() < 0.05 ? 200 : 6)); k++)
            values[`k${k}`] = r() < 0.3 ? "x".repeat(Math.floor(r() * 40)) : Math.round(r() * 1e6) / 100;
          points += Object.keys(values).length;
          recs.push({ ts: 1000 + i, values });
        }
        input.set(name, recs);
      }
      const out = b.telemetry(input);
      const got = new Map<string, TsRecord[]>();
      let gotPoints = 0;
      for (const m of out) {
        assert.ok(
          Buffer.byteLength(m.payload) <= limit - 64,
          `seed ${seed}: ${Buffer.byteLength(m.payload)} > ${limit - 64}`,
        );
        const obj = JSON.parse(m.payload) as Record<string, TsRecord[]>;
        let pts = 0;
        for (const [dev, recs] of Object.entries(obj)) {
          assert.ok(recs.length > 0, "no empty arrays");
          for (const rec of recs) {
            assert.ok(Object.keys(rec.values).length > 0);
            pts += Object.keys(rec.values).length;
          }
          got.set(dev, [...(got.get(dev) ?? []), ...recs]);
        }
        assert.equal(pts, m.points);
        gotPoints += pts;
      }
      assert.equal(gotPoints, points, `seed ${seed}: points`);
      for (const [dev, recs] of input) {
        // Records split by key keep their ts; merge them back and compare.
        const merged: TsRecord[] = [];
        for (const rec of got.get(dev) ?? []) {
          const last = merged[merged.length - 1];
          if (last && last.ts === rec.ts) Object.assign(last.values, rec.values);
          else merged.push({ ts: rec.ts, values: { ...rec.values } });
        }
        assert.deepEqual(
          merged,
          recs.filter((x) => Object.keys(x.values).length > 0),
          `seed ${seed}: ${dev}`,
        );
      }
    }
  });

  test("attributes: own ones go to v1/devices/me/attributes, others per device, split by size", () => {
    const b = new PayloadBuilder(300);
    const big: KeyValues = {};
    for (let i = 0; i < 40; i++) big[`key${i}`] = i;
    const out = b.attributes(
      new Map<string, KeyValues>([
        ["", { version: "1" }],
        ["Dev", big],
      ]),
    );
    assert.equal(out[0]?.topic, "v1/devices/me/attributes");
    assert.deepEqual(JSON.parse(out[0]!.payload), { version: "1" });
    const rest = out.slice(1);
    assert.ok(rest.length > 1, "split");
    const merged: KeyValues = {};
    for (const m of rest) {
      assert.equal(m.topic, "v1/gateway/attributes");
      assert.ok(m.payload.length <= 300 - 64);
      Object.assign(merged, (JSON.parse(m.payload) as Record<string, KeyValues>).Dev);
    }
    assert.deepEqual(merged, big);
  });

  test("own telemetry is an array of {ts, values}", () => {
    const out = new PayloadBuilder(65536).ownTelemetry([
      { ts: 5, values: { cpu: 1 } },
      { ts: 6, values: { cpu: 2 } },
    ]);
    assert.equal(out[0]?.topic, "v1/devices/me/telemetry");
    assert.deepEqual(JSON.parse(out[0]!.payload), [
      { ts: 5, values: { cpu: 1 } },
      { ts: 6, values: { cpu: 2 } },
    ]);
  });
});
