// The builder writes records' JSON in parts (a shared `{"ts":..,"values":` head per ts) instead of
// JSON.stringify per record; the text must stay exactly what JSON.stringify gives, odd values included.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PayloadBuilder } from "../../../server/gateway/payloadBuilder.ts";
import type { TsRecord } from "../../../server/gateway/protocol.ts";
import { rng } from "../../fakes/rng.ts";

function expectedPayload(byDevice: Map<string, TsRecord[]>): string {
  return JSON.stringify(
    Object.fromEntries(
      [...byDevice]
        .filter(([, recs]) => recs.some((r) => Object.keys(r.values).length > 0))
        .map(([d, recs]) => [d, recs.filter((r) => Object.keys(r.values).length > 0)]),
    ),
  );
}

describe("PayloadBuilder record encoding", () => {
  test("odd timestamps and values come out exactly as JSON.stringify writes them", () => {
    const input = new Map<string, TsRecord[]>([
      [
        "plain",
        [
          { ts: 1_764_000_000_123, values: { t: 21.37, ok: true, s: "x" } },
          { ts: 1_764_000_000_123, values: { t: -0, big: 1e21, tiny: 5e-7 } },
        ],
      ],
      [
        "odd ts",
        [
          { ts: Number.NaN, values: { a: 1 } },
          { ts: Number.POSITIVE_INFINITY, values: { a: 2 } },
          { ts: -0, values: { a: 3 } },
          { ts: 0, values: { a: 4 } },
          { ts: 1.5, values: { a: 5 } },
        ],
      ],
      [
        "odd values",
        [
          {
            ts: 7,
            values: {
              nan: Number.NaN,
              inf: Number.NEGATIVE_INFINITY,
              gone: undefined as unknown as number,
              nested: { x: [1, "é"] },
              list: [null, true],
              date: new Date(0) as unknown as string,
            },
          },
        ],
      ],
      ['quote " and é \u2028 \ud83d\ude00', [{ ts: 8, values: { 'k"ey\n': 'v"al\\ue', é: "ü" } }]],
      ["empty", [{ ts: 9, values: {} }]],
    ]);
    const out = new PayloadBuilder(65536).telemetry(input);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.payload, expectedPayload(input));
    // Data points are keys, as before (an undefined value still counts as the key it is).
    assert.equal(out[0]?.points, 3 + 3 + 5 + 6 + 2);
  });

  test("random batches: each message is JSON.stringify of its records and its size fits the limit", () => {
    for (const seed of [11, 12, 13]) {
      const r = rng(seed);
      const limit = 400 + Math.floor(r() * 3000);
      const b = new PayloadBuilder(limit);
      const input = new Map<string, TsRecord[]>();
      for (let d = 0; d < 20; d++) {
        const recs: TsRecord[] = [];
        for (let i = 0; i < Math.floor(r() * 30); i++) {
          const ts = r() < 0.1 ? Number.NaN : 1_764_000_000_000 + Math.floor(r() * 3) * 100;
          recs.push({
            ts,
            values: {
              t: Math.round(r() * 1e4) / 100,
              s: r() < 0.2 ? "ü".repeat(Math.floor(r() * 5)) : "a",
              b: r() < 0.5,
            },
          });
        }
        input.set(`dev-${d}${r() < 0.3 ? "-é" : ""}`, recs);
      }
      const out = b.telemetry(input);
      const seen = new Map<string, TsRecord[]>();
      for (const m of out) {
        assert.ok(Buffer.byteLength(m.payload) <= limit, `seed ${seed}: ${Buffer.byteLength(m.payload)} > ${limit}`);
        const parsed = JSON.parse(m.payload) as Record<string, TsRecord[]>;
        // Re-encoding what was parsed gives the same text: no stray spaces, order kept, numbers as JSON writes them.
        const again = JSON.stringify(
          Object.fromEntries(
            Object.entries(parsed).map(([d, recs]) => [d, recs.map((x) => ({ ts: x.ts, values: x.values }))]),
          ),
        );
        assert.equal(m.payload, again);
        for (const [d, recs] of Object.entries(parsed)) seen.set(d, [...(seen.get(d) ?? []), ...recs]);
      }
      for (const [d, recs] of input) {
        const want = JSON.parse(JSON.stringify(recs)) as TsRecord[];
        assert.deepEqual(seen.get(d) ?? [], want, `seed ${seed}, ${d}`);
      }
    }
  });
});
