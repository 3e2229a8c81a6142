import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mergeMessages } from "../../../server/gateway/mergeMessages.ts";

const m = (seq: number, topic: string, payload: unknown, points = 1) => ({
  seq,
  topic,
  payload: JSON.stringify(payload),
  points,
  ts: 0,
});

describe("mergeMessages (backlog replay in few publishes)", () => {
  test("consecutive telemetry is merged per device, records concatenated in order", () => {
    const out = mergeMessages([
      m(1, "v1/gateway/telemetry", { A: [{ ts: 1, values: { x: 1 } }] }),
      m(2, "v1/gateway/telemetry", { B: [{ ts: 1, values: { y: 1 } }], A: [{ ts: 2, values: { x: 2 } }] }, 2),
    ]);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.seqs, [1, 2]);
    assert.equal(out[0]!.points, 3);
    assert.deepEqual(JSON.parse(out[0]!.payload), {
      A: [
        { ts: 1, values: { x: 1 } },
        { ts: 2, values: { x: 2 } },
      ],
      B: [{ ts: 1, values: { y: 1 } }],
    });
  });

  test("attributes merge with later values winning; other topics and topic changes break runs", () => {
    const out = mergeMessages([
      m(1, "v1/gateway/attributes", { A: { a: 1, b: 1 } }),
      m(2, "v1/gateway/attributes", { A: { b: 2 } }),
      m(3, "v1/gateway/telemetry", { A: [{ ts: 1, values: { x: 1 } }] }),
      m(4, "v1/devices/me/attributes", { v: 1 }),
      m(5, "v1/devices/me/telemetry", [{ ts: 1, values: { c: 1 } }]),
      m(6, "v1/devices/me/telemetry", [{ ts: 2, values: { c: 2 } }]),
    ]);
    assert.deepEqual(
      out.map((x) => [x.topic, x.seqs]),
      [
        ["v1/gateway/attributes", [1, 2]],
        ["v1/gateway/telemetry", [3]],
        ["v1/devices/me/attributes", [4]],
        ["v1/devices/me/telemetry", [5, 6]],
      ],
    );
    assert.deepEqual(JSON.parse(out[0]!.payload), { A: { a: 1, b: 2 } });
    assert.deepEqual(JSON.parse(out[3]!.payload), [
      { ts: 1, values: { c: 1 } },
      { ts: 2, values: { c: 2 } },
    ]);
  });

  test("a single message is passed through untouched (no re-encoding on the live path)", () => {
    const raw = {
      seq: 9,
      topic: "v1/gateway/telemetry",
      payload: '{"A":[{"ts":1,"values":{"x":1.0}}]}',
      points: 1,
      ts: 0,
    };
    assert.equal(mergeMessages([raw])[0]!.payload, raw.payload);
  });

  test("a backlog of flushes naming many devices is grouped by device within the entry limit, each device's records in order", () => {
    // 4 flushes x devices A..D, at most 2 device entries per publish.
    const msgs = [0, 1, 2, 3].map((r) =>
      m(r + 1, "v1/gateway/telemetry", Object.fromEntries(["A", "B"].map((d) => [d, [{ ts: r, values: { v: r } }]]))),
    );
    const msgs2 = [0, 1, 2, 3].map((r) =>
      m(r + 5, "v1/gateway/telemetry", Object.fromEntries(["C", "D"].map((d) => [d, [{ ts: r, values: { v: r } }]]))),
    );
    const interleaved = [msgs[0]!, msgs2[0]!, msgs[1]!, msgs2[1]!, msgs[2]!, msgs2[2]!, msgs[3]!, msgs2[3]!];
    const out = mergeMessages(interleaved, Number.POSITIVE_INFINITY, 2);
    assert.equal(out.length, 2, "two publishes of 2 entries instead of 8");
    assert.deepEqual(
      out.map((x) => x.devices),
      [
        ["A", "B"],
        ["C", "D"],
      ],
    );
    const a = JSON.parse(out[0]!.payload) as { A: Array<{ ts: number }> };
    assert.deepEqual(
      a.A.map((r) => r.ts),
      [0, 1, 2, 3],
    );
  });

  test("a message never overtakes an earlier one naming the same device", () => {
    const out = mergeMessages(
      [
        m(1, "v1/gateway/telemetry", { A: [{ ts: 1, values: { v: 1 } }], B: [{ ts: 1, values: { v: 1 } }] }, 2),
        m(2, "v1/gateway/telemetry", { B: [{ ts: 2, values: { v: 2 } }], C: [{ ts: 2, values: { v: 2 } }] }, 2),
        m(3, "v1/gateway/telemetry", { A: [{ ts: 3, values: { v: 3 } }], C: [{ ts: 3, values: { v: 3 } }] }, 2),
      ],
      Number.POSITIVE_INFINITY,
      2,
    );
    // 3 cannot join group 1 (C's earlier record is in group 2, sent after it): it follows group 2.
    assert.deepEqual(
      out.map((x) => x.seqs),
      [[1], [2], [3]],
    );
  });

  test("other topics are barriers: telemetry groups never reach across them", () => {
    const out = mergeMessages([
      m(1, "v1/gateway/telemetry", { A: [{ ts: 1, values: { v: 1 } }] }),
      m(2, "v1/gateway/attributes", { A: { k: 1 } }),
      m(3, "v1/gateway/telemetry", { A: [{ ts: 2, values: { v: 2 } }] }),
    ]);
    assert.deepEqual(
      out.map((x) => x.seqs),
      [[1], [2], [3]],
    );
  });

  test("a payload that does not read is never merged away: it goes alone, in order, and nothing is dropped (issue 12)", () => {
    const raw = (seq: number, topic: string, payload: string) => ({ seq, topic, payload, points: 1, ts: 0 });
    for (const maxEntries of [Number.POSITIVE_INFINITY, 10]) {
      const out = mergeMessages(
        [
          m(1, "v1/gateway/telemetry", { A: [{ ts: 1, values: { x: 1 } }] }),
          raw(2, "v1/gateway/telemetry", "{broken"),
          raw(3, "v1/gateway/telemetry", "{also broken"),
          m(4, "v1/gateway/telemetry", { A: [{ ts: 2, values: { x: 2 } }] }),
          raw(5, "v1/devices/me/telemetry", "[nope"),
          m(6, "v1/devices/me/telemetry", [{ ts: 1, values: { c: 1 } }]),
        ],
        Number.POSITIVE_INFINITY,
        maxEntries,
      );
      assert.deepEqual(
        out.flatMap((x) => x.seqs).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6],
        `every seq still sent (maxEntries ${maxEntries})`,
      );
      for (const bad of ["{broken", "{also broken", "[nope"])
        assert.ok(
          out.some((x) => x.payload === bad && x.seqs.length === 1),
          `${bad} alone (maxEntries ${maxEntries})`,
        );
    }
  });
});
