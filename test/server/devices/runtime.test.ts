import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SimGpioChip } from "../../../drivers/gpio/sim.ts";
import { deviceSchema } from "../../../server/config/schema.ts";
import { MemoryDeviceMemory } from "../../../server/devices/deviceContext.ts";
import { DeviceRuntime, deviceName } from "../../../server/devices/runtime.ts";
import { EventBus } from "../../../server/eventBus.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { until } from "../../fakes/waitFor.ts";

async function runtime() {
  const bus = new EventBus();
  const chip = new SimGpioChip();
  const rt = new DeviceRuntime({ bus, log: silentLogger(), memory: new MemoryDeviceMemory() });
  await rt.build([deviceSchema.parse({ id: "io", kind: "gpio", outputs: [{ pin: 5, label: "lamp" }] })], "u1", {
    gpio: async () => chip,
    openSensor: async () => {
      throw new Error("none");
    },
  });
  await rt.start();
  return { bus, chip, rt };
}

describe("DeviceRuntime", () => {
  test("names carry the unit identity by default", () => {
    assert.equal(deviceName(deviceSchema.parse({ id: "x", kind: "gpio" }), "rpi-1a2b3c4d"), "rpi-1a2b3c4d x");
    assert.equal(deviceName(deviceSchema.parse({ id: "x", kind: "gpio", name: "Pump of {unit}" }), "u"), "Pump of u");
  });

  test("an attribute request answer never undoes a newer pushed update", async () => {
    const { bus, chip, rt } = await runtime();
    const d = rt.find("io")!;
    // Every write of the lamp is reported, in order: a stale answer that got through would show up
    // as a report of false before the later answer's (no sleep needed to see that it did not).
    const lamp: unknown[] = [];
    bus.on({}, "telemetry", (_device, r) => {
      if ("lamp" in r.values) lamp.push(r.values["lamp"]);
    });
    const requestedAt = Date.now() - 10;
    bus.emit("sharedAttributes", "u1 io", { lamp: true }, []);
    await until(() => chip.level(5) === 1, "pushed update applied");
    rt.applyRequested(d, { lamp: false }, requestedAt);
    rt.applyRequested(d, { lamp: false }, Date.now() + 1);
    await until(() => chip.level(5) === 0, "a later answer applies");
    assert.deepEqual(lamp, [true, false], "the stale answer was skipped");
    await rt.stop();
  });

  test("rename keeps the old name resolvable (ThingsBoard keeps the old sub-session); delete hides the device", async () => {
    const { rt } = await runtime();
    assert.ok(rt.rename("u1 io", "Kitchen"));
    assert.equal(rt.find("Kitchen")?.info.id, "io");
    assert.equal(rt.find("u1 io")?.info.name, "Kitchen");
    assert.equal(rt.rename("nobody", "x"), false);
    assert.ok(rt.markDeleted("Kitchen"));
    assert.equal(rt.find("Kitchen"), undefined);
    assert.equal(rt.list().length, 0);
    assert.equal(rt.snapshots().length, 1, "the dashboard still shows it");
    await rt.stop();
  });
});
