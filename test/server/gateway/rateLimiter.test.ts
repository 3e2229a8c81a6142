import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseLimits, RateLimiter } from "../../../server/gateway/rateLimiter.ts";
import { parseSessionLimits } from "../../../server/gateway/sessionLimits.ts";

describe("RateLimiter (ThingsBoard capacity:seconds notation)", () => {
  test("parses limit strings and ignores junk", () => {
    assert.deepEqual(parseLimits("10:1,300:60"), [
      { capacity: 10, seconds: 1 },
      { capacity: 300, seconds: 60 },
    ]);
    assert.deepEqual(parseLimits(" 5 : 2 ,x:y,0:1"), [{ capacity: 5, seconds: 2 }]);
    assert.deepEqual(parseLimits(null), []);
  });

  test("every bucket must have room; refills over time (fake clock)", () => {
    let now = 0;
    const l = new RateLimiter("10:1,15:60", () => now);
    for (let i = 0; i < 10; i++) assert.ok(l.tryTake(1));
    assert.equal(l.tryTake(1), false, "per-second bucket empty");
    assert.equal(l.waitMs(1), 100);
    now = 1000;
    for (let i = 0; i < 5; i++) assert.ok(l.tryTake(1), `take ${i}`);
    assert.equal(l.tryTake(1), false, "per-minute bucket (15) empty");
    assert.ok(l.waitMs(1) > 1000);
  });

  test("a cost above a bucket's capacity waits for a full bucket instead of never passing", () => {
    let now = 0;
    const l = new RateLimiter("100:1", () => now);
    assert.ok(l.tryTake(500));
    assert.equal(l.tryTake(1), false);
    now = 1000;
    assert.ok(l.tryTake(500));
  });

  test("no limits: always passes", () => {
    const l = new RateLimiter(undefined);
    assert.ok(l.unlimited);
    assert.equal(l.waitMs(1e9), 0);
  });

  test("getSessionLimits answers are parsed; error answers are not limits", () => {
    const s = parseSessionLimits({
      maxPayloadSize: 65536,
      maxInflightMessages: 100,
      rateLimits: { messages: "20:1" },
      gatewayRateLimits: { telemetryDataPoints: "100:1", messages: null },
    });
    assert.deepEqual(s, {
      maxPayloadSize: 65536,
      maxInflightMessages: 100,
      rateLimits: { messages: "20:1" },
      gatewayRateLimits: { telemetryDataPoints: "100:1" },
    });
    assert.equal(parseSessionLimits({ error: "timeout" }), null);
    assert.equal(parseSessionLimits("nope"), null);
  });
});
