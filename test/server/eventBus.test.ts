import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EventBus } from "../../server/eventBus.ts";
import { createLogger } from "../../server/util/logger.ts";

describe("EventBus", () => {
  test("typed emit reaches listeners; removeListeners is per owner object, not per class", () => {
    const bus = new EventBus();
    class Feature {}
    const a = new Feature();
    const b = new Feature();
    const got: string[] = [];
    bus.on(a, "devicesChanged", () => got.push("a"));
    bus.on(b, "devicesChanged", () => got.push("b"));
    bus.emit("devicesChanged");
    bus.removeListeners(a);
    bus.emit("devicesChanged");
    assert.deepEqual(got, ["a", "b", "b"]);
    assert.equal(bus.listenerCount("devicesChanged"), 1);
  });

  test("a throwing listener is isolated, counted and logged; the others still run", () => {
    const lines: string[] = [];
    const bus = new EventBus(createLogger("info", (l) => lines.push(l)));
    const got: number[] = [];
    bus.on({}, "telemetry", () => {
      throw new Error("boom");
    });
    bus.on({}, "telemetry", (_d, r) => got.push(r.ts));
    bus.emit("telemetry", "d", { ts: 5, values: { x: 1 } });
    assert.deepEqual(got, [5]);
    assert.equal(bus.errorCount, 1);
    assert.match(lines.join("\n"), /telemetry failed: boom/);
  });
});
