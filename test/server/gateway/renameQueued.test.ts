import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { rewriteQueued } from "../../../server/gateway/renameQueued.ts";

const renames = new Map([["Old", "New"]]);
const isDeleted = (d: string) => d === "Gone";
const msg = (topic: string, payload: unknown, points = 1) => ({
  topic,
  payload: JSON.stringify(payload),
  points,
  seqs: [1],
});

describe("rewriteQueued (messages queued before a rename or deletion in ThingsBoard)", () => {
  test("entries under an old name go out under the new one, joined with the new name's records", () => {
    const out = rewriteQueued(
      msg(
        "v1/gateway/telemetry",
        {
          Old: [{ ts: 1, values: { a: 1 } }],
          New: [{ ts: 2, values: { a: 2 } }],
          Other: [{ ts: 1, values: { b: 1 } }],
        },
        3,
      ),
      { renames, isDeleted },
    );
    assert.deepEqual(JSON.parse(out!.payload), {
      New: [
        { ts: 1, values: { a: 1 } },
        { ts: 2, values: { a: 2 } },
      ],
      Other: [{ ts: 1, values: { b: 1 } }],
    });
    assert.deepEqual(out!.devices, ["New", "Other"]);
    const req = rewriteQueued(msg("v1/gateway/attributes/request", { id: 1, device: "Old", client: false, key: "k" }), {
      renames,
      isDeleted,
    });
    assert.equal(JSON.parse(req!.payload).device, "New");
  });

  test("entries of a deleted device are dropped with their points; a message with nothing left is null", () => {
    const out = rewriteQueued(
      msg(
        "v1/gateway/telemetry",
        { Gone: [{ ts: 1, values: { a: 1, b: 2 } }], Other: [{ ts: 1, values: { c: 1 } }] },
        3,
      ),
      { renames, isDeleted },
    );
    assert.deepEqual(JSON.parse(out!.payload), { Other: [{ ts: 1, values: { c: 1 } }] });
    assert.equal(out!.points, 1);
    assert.equal(rewriteQueued(msg("v1/gateway/attributes", { Gone: { k: 1 } }), { renames, isDeleted }), null);
  });

  test("a message naming neither is passed through untouched", () => {
    const m = msg("v1/gateway/telemetry", { Other: [{ ts: 1, values: { c: 1.0 } }] });
    assert.equal(rewriteQueued(m, { renames, isDeleted }), m);
  });
});
