import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PayloadBuilder } from "../../../server/gateway/payloadBuilder.ts";
import type { TsRecord } from "../../../server/gateway/protocol.ts";
import { ReadingBuffer } from "../../../server/gateway/readingBuffer.ts";

function records(devices: number, perDevice: number, keys: number): Map<string, TsRecord[]> {
  const m = new Map<string, TsRecord[]>();
  for (let d = 0; d < devices; d++) {
    const recs: TsRecord[] = [];
    for (let i = 0; i < perDevice; i++) {
      const values: Record<string, number | string> = {};
      for (let k = 0; k < keys; k++) values[`key-${k}`] = k % 3 === 0 ? `é${i}` : i * 10 + k / 100;
      recs.push({ ts: 1_764_000_000_000 + Math.floor(i / 3) * 100, values });
    }
    m.set(`dev-${d}`, recs);
  }
  return m;
}

function fill(buf: ReadingBuffer, m: Map<string, TsRecord[]>): void {
  // Interleaved, as devices report.
  const longest = Math.max(...[...m.values()].map((r) => r.length));
  for (let i = 0; i < longest; i++) for (const [d, recs] of m) if (recs[i]) buf.telemetry(d, recs[i] as TsRecord);
}

function delivered(messages: Array<{ payload: string }>): Map<string, TsRecord[]> {
  const out = new Map<string, TsRecord[]>();
  for (const msg of messages)
    for (const [d, recs] of Object.entries(JSON.parse(msg.payload) as Record<string, TsRecord[]>))
      out.set(d, [...(out.get(d) ?? []), ...recs]);
  return out;
}

describe("ReadingBuffer", () => {
  test("buffered readings drain to exactly what the builder makes of the records", () => {
    const input = records(7, 20, 5);
    input.set("empty only", [{ ts: 1, values: {} }]);
    const buf = new ReadingBuffer(1024);
    fill(buf, input);
    const drained = buf.drain();
    assert.deepEqual(drained, new PayloadBuilder(1024).telemetry(input));
    assert.ok(drained.length > 1);
    assert.deepEqual(buf.drain(), [], "drain empties the buffer");
  });

  test("limits that shrink after the readings arrived still hold at the flush, and nothing is lost", () => {
    const input = records(3, 10, 12);
    const buf = new ReadingBuffer(65536);
    fill(buf, input);
    buf.builder.maxBytes = 300;
    buf.builder.maxPoints = 5;
    const drained = buf.drain();
    for (const m of drained) {
      assert.ok(Buffer.byteLength(m.payload) <= 300, `${Buffer.byteLength(m.payload)} bytes`);
      assert.ok(m.points <= 5, `${m.points} points`);
    }
    // Split records keep their ts; merged back per ts they are the originals.
    const got = delivered(drained);
    for (const [d, recs] of input) {
      const merged = new Map<number, Record<string, unknown>>();
      for (const r of got.get(d) ?? []) merged.set(r.ts, { ...merged.get(r.ts), ...r.values });
      const want = new Map<number, Record<string, unknown>>();
      for (const r of recs) want.set(r.ts, { ...want.get(r.ts), ...r.values });
      assert.deepEqual(merged, want, d);
    }
    assert.equal(
      drained.reduce((n, m) => n + m.points, 0),
      3 * 10 * 12,
    );
  });
});
