import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SimGpioChip } from "../../../drivers/gpio/sim.ts";
import { deviceSchema } from "../../../server/config/schema.ts";
import { MemoryDeviceMemory } from "../../../server/devices/deviceContext.ts";
import { DeviceRuntime } from "../../../server/devices/runtime.ts";
import { EventBus } from "../../../server/eventBus.ts";
import type { EventLogEntry } from "../../../server/events.ts";
import { DeviceRpcDispatcher } from "../../../server/rpc/dispatcher.ts";
import { silentLogger } from "../../../server/util/logger.ts";

describe("RPC dispatcher", () => {
  test("finds devices by ThingsBoard name or local id, always answers, logs every call", async () => {
    const bus = new EventBus();
    const log: EventLogEntry[] = [];
    bus.on({}, "eventLog", (e) => log.push(e));
    const rt = new DeviceRuntime({ bus, log: silentLogger(), memory: new MemoryDeviceMemory() });
    const chip = new SimGpioChip();
    await rt.build([deviceSchema.parse({ id: "io", kind: "gpio", name: "{unit} IO", outputs: [{ pin: 5 }] })], "pi1", {
      gpio: async () => chip,
      openSensor: async () => {
        throw new Error("none");
      },
    });
    await rt.start();
    const d = new DeviceRpcDispatcher(rt, bus, silentLogger());
    assert.deepEqual(
      await d.dispatch({ device: "pi1 IO", method: "toggle_gpio", params: { pin: 5 }, source: "thingsboard" }),
      { ok: true, data: { success: true, pin: 5, enabled: true } },
    );
    assert.deepEqual(await d.dispatch({ device: "io", method: "getGpioStatus", params: null, source: "dashboard" }), {
      ok: true,
      data: { "5": true },
    });
    const cases: Array<[string, string, string]> = [
      ["nobody", "toggle_gpio", "UNKNOWN_DEVICE"],
      ["io", "selfDestruct", "UNKNOWN_METHOD"],
      ["io", "constructor", "UNKNOWN_METHOD"],
      ["io", "__proto__", "UNKNOWN_METHOD"],
      ["io", "", "BAD_PARAMS"],
    ];
    for (const [device, method, code] of cases) {
      const r = await d.dispatch({ device, method, params: {}, source: "thingsboard" });
      assert.equal(r.ok, false, `${device}/${method}`);
      assert.equal((r.data as { code: string }).code, code, `${device}/${method}`);
      assert.equal((r.data as { success: boolean }).success, false);
    }
    assert.equal(d.stats.handled, 7);
    assert.equal(d.stats.errors, 5);
    const rpc = log.filter((e) => e.kind === "rpc");
    assert.equal(rpc.length, 7);
    // The dashboard's id and ThingsBoard's name are one name in the log; failures say so (issue 14).
    assert.deepEqual(
      rpc.slice(0, 2).map((e) => [e.device, e.ok]),
      [
        ["pi1 IO", true],
        ["pi1 IO", true],
      ],
    );
    assert.deepEqual(
      rpc.slice(2).map((e) => e.ok),
      [false, false, false, false, false],
    );
    assert.match(
      rpc[3]?.text ?? "",
      /^ThingsBoard RPC "selfDestruct"\(\{\}\) failed: unknown method "selfDestruct" for pi1 IO/,
    );
    await rt.stop();
  });
});
