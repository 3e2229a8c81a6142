import { test } from "node:test";
import assert from "node:assert/strict";
import { isTbValue, parseJson, preview } from "../../../server/util/json.ts";

test("parseJson never throws; preview keeps hostile values short", () => {
  assert.deepEqual(parseJson('{"a":1}'), { ok: true, value: { a: 1 } });
  assert.equal(parseJson("{nope").ok, false);
  assert.equal(parseJson(Buffer.from([0xff, 0xfe])).ok, false);
  assert.equal(preview("x".repeat(70_000)).length < 120, true);
  assert.match(preview("x".repeat(70_000)), /70000 chars/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(preview(cyclic), "[object Object]");
  assert.equal(preview(undefined), "undefined");
  assert.equal(isTbValue(null), false);
  assert.equal(isTbValue(Number.NaN), false);
  assert.equal(isTbValue({ a: 1 }), true);
});

test("preview does work bounded by its output, not by the size of the value (issue 12)", () => {
  // Every value read is counted: the old preview stringified all 100,000 before cutting.
  let reads = 0;
  const wide: Record<string, unknown> = {};
  for (let i = 0; i < 100_000; i++)
    Object.defineProperty(wide, `k${i}`, {
      enumerable: true,
      get: () => {
        reads++;
        return i;
      },
    });
  const text = preview(wide, 200);
  assert.ok(text.length <= 201, text);
  assert.ok(reads < 100, `${reads} values read for a 200-character preview`);
  reads = 0;
  const deep: unknown[] = [];
  let at = deep;
  for (let i = 0; i < 100_000; i++) {
    const next: unknown[] = [];
    at.push(next);
    at = next;
  }
  assert.ok(preview(deep, 50).length <= 51);
  // Same rendering as JSON where it fits.
  const v = { a: 1, b: [true, null, "x"], c: { d: -2.5 }, e: undefined };
  assert.equal(preview(v, 200), JSON.stringify(v));
  assert.equal(preview([undefined, () => 1, Number.NaN]), "[null,null,null]");
  assert.equal(preview(new Date(0)), JSON.stringify(new Date(0)));
});
