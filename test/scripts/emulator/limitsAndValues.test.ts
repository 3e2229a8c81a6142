import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Emulator } from "../../../scripts/emulator/index.ts";
import { LimitSet, RateLimit } from "../../../scripts/emulator/rateLimits.ts";
import { filterMatches, qosForTopic } from "../../../scripts/emulator/subscriptions.ts";
import { castValue, ConversionError, toTelemetryRecord } from "../../../scripts/emulator/values.ts";
import { closed, connectGateway, publishRc, startTestEmulator } from "./helpers.ts";

describe("emulator: rate limits", () => {
  test("a token bucket refills continuously at capacity/seconds, and every bucket must have room", () => {
    let now = 0;
    const rl = new RateLimit("2:1,3:10", () => now);
    assert.equal(rl.tryConsume(), true);
    assert.equal(rl.tryConsume(), true);
    assert.equal(rl.tryConsume(), false, "the 2/s bucket is empty");
    now = 1000;
    assert.equal(rl.tryConsume(), true, "refilled after 1 s");
    assert.equal(rl.tryConsume(), false, "the 3/10 s bucket is now empty");
    now = 5000;
    assert.equal(rl.tryConsume(), true, "1.5 tokens back in the slow bucket");
  });

  test("malformed limit strings throw at construction with the exact spec", () => {
    assert.throws(() => new RateLimit("10/1"), /Invalid rate limit '10\/1'/);
    assert.throws(() => new RateLimit("0:1"), /capacity and seconds must be > 0/);
  });

  // DefaultTransportRateLimitService.checkEntityRateLimit: data points > 0 -> telemetry message
  // + data points; 0 -> the regular messages bucket only.
  test("a call with data points takes the telemetry buckets, not the messages bucket", () => {
    const set = new LimitSet({ messages: "1:60", telemetryMessages: "2:60", telemetryDataPoints: "5:60" }, () => 0);
    assert.equal(set.allow(5), true);
    assert.equal(set.allow(1), false, "data points exhausted");
    assert.equal(set.allow(0), true, "the messages bucket was untouched");
    assert.equal(set.allow(0), false);
    assert.equal(set.allow(1), false, "the refused call above still took the second telemetry-message token");
  });

  describe("enforced over MQTT", () => {
    let emu: Emulator;
    before(async () => {
      emu = await startTestEmulator({
        enforceRateLimits: true,
        gatewayRateLimits: { telemetryDataPoints: "3:3600" },
        rateLimits: { telemetryDataPoints: "2:3600" },
      });
    });
    after(() => emu.stop());

    test("sub-device traffic over gatewayRateLimits gets E5: PUBACK 0x97 then close", async () => {
      const gw = await connectGateway(emu, 5);
      assert.equal(await publishRc(gw, "v1/gateway/telemetry", { Limited: [{ a: 1, b: 2, c: 3 }] }), 0);
      const gone = closed(gw);
      assert.equal(await publishRc(gw, "v1/gateway/telemetry", { Limited: [{ d: 4 }] }), 0x97);
      await gone;
      assert.equal(emu.telemetry("Limited").length, 1);
    });

    test("the gateway's own traffic over rateLimits is closed with no PUBACK", async () => {
      const gw = await connectGateway(emu, 5);
      assert.equal(await publishRc(gw, "v1/devices/me/attributes", { a: 1 }), 0);
      assert.equal(await publishRc(gw, "v1/devices/me/attributes", { a: 2 }), 0);
      const gone = closed(gw);
      let acked = false;
      gw.publish("v1/devices/me/attributes", JSON.stringify({ a: 3 }), { qos: 1 }, () => {
        acked = true;
      });
      await gone;
      assert.equal(acked, false);
      assert.deepEqual(emu.clientAttributes("GW"), { a: 2 });
    });
  });
});

describe("emulator: value rules and topic matching", () => {
  test("numeric strings are cast; longs beyond range and other strings stay strings", () => {
    assert.equal(castValue("42"), 42);
    assert.equal(castValue("-1.5"), -1.5);
    assert.equal(castValue("99999999999999999999"), "99999999999999999999");
    assert.equal(castValue("12abc"), "12abc");
    assert.equal(castValue(true), true);
  });

  test("{ts, values} needs both; gateway metadata is stripped and must be complete", () => {
    assert.deepEqual(toTelemetryRecord({ values: { a: 1 } }, 7, false), { ts: 7, values: { values: { a: 1 } } });
    assert.deepEqual(toTelemetryRecord({ ts: "5", values: { a: 1 }, extra: 1 }, 7, false), { ts: 5, values: { a: 1 } });
    const md = { connector: "c", receivedTs: 1, publishedTs: 2 };
    assert.deepEqual(toTelemetryRecord({ ts: 5, values: { a: 1 }, metadata: md }, 7, true), {
      ts: 5,
      values: { a: 1 },
    });
    assert.throws(() => toTelemetryRecord({ a: 1, metadata: { connector: "c" } }, 7, true), ConversionError);
    assert.throws(() => toTelemetryRecord({ ts: "soon", values: {} }, 7, false), ConversionError);
  });

  test("server publish QoS follows the first matching subscription, else 1", () => {
    assert.equal(filterMatches("v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/3"), true);
    assert.equal(filterMatches("v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/3/x"), false);
    assert.equal(filterMatches("v2/fw/response/+/chunk/+", "v2/fw/response/1/chunk/0"), true);
    const subs = new Map<string, 0 | 1>([["v1/gateway/rpc", 0]]);
    assert.equal(qosForTopic(subs, "v1/gateway/rpc"), 0);
    assert.equal(qosForTopic(subs, "v1/gateway/attributes"), 1);
  });
});
