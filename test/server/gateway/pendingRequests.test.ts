import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PendingRequests, RequestTimeoutError } from "../../../server/gateway/pendingRequests.ts";

describe("PendingRequests", () => {
  test("attribute requests are matched by device AND id (ids are not unique across devices)", async () => {
    const sent: Array<[string, unknown]> = [];
    const p = new PendingRequests(async (t, payload) => {
      sent.push([t, JSON.parse(payload)]);
    }, 1000);
    const a = p.attributes("A", ["k"], true);
    const b = p.attributes("B", ["k", "j"], false);
    assert.deepEqual(sent, [
      ["v1/gateway/attributes/request", { id: 1, device: "A", client: true, key: "k" }],
      ["v1/gateway/attributes/request", { id: 2, device: "B", client: false, keys: ["k", "j"] }],
    ]);
    assert.equal(
      p.resolveAttributes({ id: 1, device: "B", hasValue: true, hasValues: false, value: 9 }),
      false,
      "wrong device",
    );
    assert.ok(p.resolveAttributes({ id: 2, device: "B", hasValue: false, hasValues: true, values: { k: 1 } }));
    assert.ok(p.resolveAttributes({ id: 1, device: "A", hasValue: true, hasValues: false, value: "v" }));
    assert.deepEqual(await a, { k: "v" });
    assert.deepEqual(await b, { k: 1 });
    assert.equal(p.size, 0);
  });

  test("no answer: a timeout error, and the late answer is ignored", async () => {
    const p = new PendingRequests(async () => {}, 30);
    await assert.rejects(p.attributes("A", ["k"], true), RequestTimeoutError);
    assert.equal(p.resolveAttributes({ id: 1, device: "A", hasValue: true, hasValues: false, value: 1 }), false);
  });

  test("a lost connection fails everything pending; a failed publish fails its request", async () => {
    const p = new PendingRequests(async () => {}, 10_000);
    const r = p.clientRpc("getSessionLimits", {});
    p.failAll("connection lost");
    await assert.rejects(r, /connection lost/);
    const q = new PendingRequests(async () => Promise.reject(new Error("not connected")), 10_000);
    await assert.rejects(q.ownAttributes(["a"], ["b"]), /not connected/);
  });
});
