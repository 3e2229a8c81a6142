// Issue 12: 10,000 toggle_gpio from ThingsBoard in 0.7 s drove GPIO 17 10,000 times. Each output
// now takes a burst, then a steady rate, whatever the source; the refused commands are answered
// with RATE_LIMITED, and moves to the safe state are never limited. A fake clock, no sleeping.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SimGpioChip } from "../../../drivers/gpio/sim.ts";
import { gpioDeviceSchema } from "../../../server/config/schema.ts";
import { RpcError } from "../../../server/devices/device.ts";
import { MemoryDeviceMemory } from "../../../server/devices/deviceContext.ts";
import { GpioDevice } from "../../../server/devices/gpioDevice.ts";
import { EventBus } from "../../../server/eventBus.ts";
import { silentLogger } from "../../../server/util/logger.ts";

function setup(extra: Record<string, unknown> = {}) {
  let now = 1_000_000;
  const chip = new SimGpioChip();
  const bus = new EventBus();
  const switches: Record<string, number> = {};
  bus.on({}, "telemetry", (_d, r) => {
    for (const k of Object.keys(r.values)) switches[k] = (switches[k] ?? 0) + 1;
  });
  const cfg = gpioDeviceSchema.parse({
    id: "io",
    kind: "gpio",
    outputs: [
      { pin: 17, label: "pump" },
      { pin: 27, label: "fan" },
    ],
    ...extra,
  });
  const device = new GpioDevice(cfg, "Dev", chip, {
    bus,
    log: silentLogger(),
    memory: new MemoryDeviceMemory(),
    now: () => now,
  });
  return { device, chip, switches, advance: (ms: number) => (now += ms) };
}

async function toggles(device: GpioDevice, pin: number, n: number): Promise<{ ok: number; limited: number }> {
  let ok = 0;
  let limited = 0;
  for (let i = 0; i < n; i++) {
    try {
      await device.rpc.toggle_gpio!({ pin });
      ok++;
    } catch (err) {
      assert.ok(err instanceof RpcError && err.code === "RATE_LIMITED", String(err));
      assert.match(err.message, /GPIO 17 is switched too often: at most 10 switches at once, then 5 per second/);
      limited++;
    }
  }
  return { ok, limited };
}

test("default: 10 switches at once, then 5 per second, per output; the rest refused with RATE_LIMITED", async () => {
  const { device, switches, advance } = setup();
  await device.start();
  const before = switches.pump ?? 0;
  assert.deepEqual(await toggles(device, 17, 1000), { ok: 10, limited: 990 });
  assert.equal((switches.pump ?? 0) - before, 10, "the output moved 10 times, not 1000");
  advance(1000);
  assert.deepEqual(await toggles(device, 17, 100), { ok: 5, limited: 95 });
  advance(200);
  assert.deepEqual(await toggles(device, 17, 10), { ok: 1, limited: 9 });
  // Another output has its own budget.
  await device.rpc.toggle_gpio!({ pin: 27 });
  // Setting the value an output already has is not a switch and is never refused.
  const state = (await device.rpc.getGpioStatus!({})) as Record<string, boolean>;
  for (let i = 0; i < 50; i++) await device.rpc.setGpioStatus!({ pin: 17, enabled: state["17"] });
  await device.stop();
});

test("shared attributes are limited too; safe state is not", async () => {
  const { device, chip, advance } = setup({ outputRateLimit: { burst: 2, perSecond: 1 }, safeStateAfterOfflineSec: 1 });
  await device.start();
  await device.rpc.toggle_gpio!({ pin: 17 });
  await device.rpc.toggle_gpio!({ pin: 17 });
  await assert.rejects(() => device.rpc.toggle_gpio!({ pin: 17 }), /switched too often/);
  // A shared attribute asking for a switch now is refused as well (logged; it has no reply).
  device.applyShared({ pump: true }, []);
  await new Promise((r) => setImmediate(r));
  assert.equal(chip.level(17), 0);
  advance(1000);
  device.applyShared({ pump: true }, []);
  await new Promise((r) => setImmediate(r));
  assert.equal(chip.level(17), 1);
  // Stop applies the safe state (off) even with the bucket empty.
  await device.stop();
  assert.equal(chip.level(17), 0);
});

test("the limit is configurable and validated", () => {
  assert.deepEqual(gpioDeviceSchema.parse({ id: "a", kind: "gpio" }).outputRateLimit, { burst: 10, perSecond: 5 });
  assert.equal(gpioDeviceSchema.safeParse({ id: "a", kind: "gpio", outputRateLimit: { burst: 0 } }).success, false);
  assert.equal(
    gpioDeviceSchema.safeParse({ id: "a", kind: "gpio", outputRateLimit: { perSecond: -1 } }).success,
    false,
  );
});
