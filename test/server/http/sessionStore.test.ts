import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AttemptLimiter } from "../../../server/http/auth/attemptLimiter.ts";
import { SessionStore, sessionKey } from "../../../server/http/auth/sessionStore.ts";

describe("SessionStore", () => {
  test("sessions expire after the TTL and prune reports them", () => {
    let now = 1_000_000;
    const store = new SessionStore(3_600_000, () => now);
    const { id, session } = store.create("admin");
    assert.equal(session.key, sessionKey(id));
    assert.equal(store.get(id)?.role, "admin");
    assert.equal(store.get("nope"), null);
    assert.equal(store.get(undefined), null);
    now += 3_600_000 - 1;
    assert.ok(store.isLive(session.key));
    now += 1;
    assert.deepEqual(store.prune(), [session.key]);
    assert.equal(store.get(id), null);
  });

  test("ids are random 32-byte values; the store never holds the raw id", () => {
    const store = new SessionStore(1000);
    const a = store.create("viewer");
    const b = store.create("viewer");
    assert.notEqual(a.id, b.id);
    assert.equal(Buffer.from(a.id, "base64url").length, 32);
    assert.notEqual(a.session.key, a.id);
  });

  test("bad TTL is a programmer error", () => {
    assert.throws(() => new SessionStore(0), { message: "Invalid session TTL 0" });
  });
});

describe("AttemptLimiter", () => {
  test("sliding window: the budget comes back as old attempts age out", () => {
    let now = 0;
    const limiter = new AttemptLimiter(5, 60_000, () => now);
    for (let i = 0; i < 5; i++) {
      assert.equal(limiter.attempt("10.0.0.2"), 0);
      now += 1000;
    }
    assert.equal(limiter.attempt("10.0.0.2"), 55);
    assert.equal(limiter.attempt("10.0.0.3"), 0, "other addresses are not affected");
    now = 60_001;
    assert.equal(limiter.attempt("10.0.0.2"), 0);
  });
});
