import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, maskSecrets } from "../../../server/util/logger.ts";

describe("logger", () => {
  test("JSON lines with level and namespace; per-namespace levels; lazy messages not built when off", () => {
    const lines: string[] = [];
    const log = createLogger("info", (l) => lines.push(l));
    let built = 0;
    log.child("mqtt").debug(() => `expensive ${++built}`);
    assert.equal(built, 0);
    log.root.nsLevels.set("gw:mqtt", "debug");
    log
      .child("mqtt")
      .child("x")
      .debug(() => `expensive ${++built}`);
    assert.equal(built, 1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(rec.level, "debug");
    assert.equal(rec.ns, "gw:mqtt:x");
    assert.equal(rec.msg, "expensive 1");
  });

  test("secrets never reach the output: known values scrubbed, secret-looking fields masked", () => {
    const lines: string[] = [];
    const log = createLogger("info", (l) => lines.push(l));
    log.root.addSecret("s3cr3t-token-value");
    log.info("connecting with s3cr3t-token-value", {
      accessToken: "abc123",
      password: "hunter22",
      nested: { provisionDeviceSecret: "zzz", ok: 1 },
    });
    const out = lines.join("\n");
    assert.doesNotMatch(out, /s3cr3t-token-value|abc123|hunter22|zzz/);
    assert.match(out, /"ok":1/);
    assert.deepEqual(maskSecrets({ token: "", password: null, user: "u" }), { token: "", password: null, user: "u" });
  });

  test("sinks receive records at their own level", () => {
    const log = createLogger("error", () => {});
    const got: string[] = [];
    log.root.sinks.set((r) => got.push(`${r.level}:${r.msg}`), "warn");
    log.info("no");
    log.warn("yes");
    assert.deepEqual(got, ["warn:yes"]);
  });
});
