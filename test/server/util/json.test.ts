import { test } from "node:test";
import assert from "node:assert/strict";
import { isTbValue, parseJson, preview } from "../../../server/util/json.ts";

test("parseJson never throws; preview keeps hostile values short", () => {
  assert.deepEqual(parseJson('{"a":1}'), { ok: true, value: { a: 1 } });
  assert.equal(parseJson("{nope").ok, false);
  assert.equal(parseJson(Buffer.from([0xff, 0xfe])).ok, false);
  assert.equal(preview("x".repeat(70_000)).length < 120, true);
  assert.match(preview("x".repeat(70_000)), /70002 chars/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(preview(cyclic), "[object Object]");
  assert.equal(preview(undefined), "undefined");
  assert.equal(isTbValue(null), false);
  assert.equal(isTbValue(Number.NaN), false);
  assert.equal(isTbValue({ a: 1 }), true);
});
