// A config written for the Pi's 1-Wire probes and DHT22 runs unchanged in sim mode: Hardware puts
// each configured part into the twins' fake sysfs tree (a temp dir), the device runtime reads them
// as sensor devices named by ROM id, and the tree is removed on close.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Hardware } from "../../server/hardware.ts";
import { validateConfig } from "../../server/config/load.ts";
import { DeviceRuntime } from "../../server/devices/runtime.ts";
import { MemoryDeviceMemory } from "../../server/devices/deviceContext.ts";
import { EventBus } from "../../server/eventBus.ts";
import type { KeyValues, TsRecord } from "../../server/gateway/protocol.ts";
import { silentLogger } from "../../server/util/logger.ts";
import { until } from "../fakes/waitFor.ts";

test("DS18B20 probes and a DHT22 in sim mode: twins in a temp sysfs tree, devices named by ROM id, ROM id reported", async () => {
  const r = validateConfig({
    hardware: "sim",
    thingsboard: { host: "tb.local", accessToken: "t" },
    devices: [
      { id: "tank", kind: "sensor", chip: "ds18b20", intervalSec: 3600, options: { romId: "28-0316A2791F2A" } },
      {
        id: "pipe",
        kind: "sensor",
        chip: "ds18b20",
        name: "Pipe {romId}",
        intervalSec: 3600,
        options: { romId: "28-031997791b05" },
      },
      { id: "porch", kind: "sensor", chip: "dht22", intervalSec: 3600, options: { pin: 23 } },
    ],
  });
  if (!r.ok) throw new Error(r.errors.join("; "));
  const hw = Hardware.create(r.config, silentLogger());
  const bus = new EventBus();
  const telemetry = new Map<string, TsRecord[]>();
  const attributes = new Map<string, KeyValues[]>();
  bus.on({}, "telemetry", (d, rec) => telemetry.set(d, [...(telemetry.get(d) ?? []), rec]));
  bus.on({}, "clientAttributes", (d, v) => attributes.set(d, [...(attributes.get(d) ?? []), v]));
  const runtime = new DeviceRuntime({ bus, log: silentLogger(), memory: new MemoryDeviceMemory() });
  await runtime.build(r.config.devices, "pi-1", hw);
  assert.deepEqual(
    runtime.list().map((d) => d.info.name),
    ["pi-1 28-0316a2791f2a", "Pipe 28-031997791b05", "pi-1 porch"],
  );
  await runtime.start();
  try {
    await until(() => telemetry.size === 3, "a reading from each device");
    const sysfs = hw.sim!.sysfs!;
    assert.deepEqual(sysfs.w1.probes, ["28-0316a2791f2a", "28-031997791b05"]);
    assert.deepEqual(telemetry.get("pi-1 28-0316a2791f2a")![0]!.values, { temperature: 21.5 });
    assert.deepEqual(telemetry.get("pi-1 porch")![0]!.values, { temperature: 21.5, humidity: 45 });
    assert.deepEqual(attributes.get("Pipe 28-031997791b05"), [{ serialNumber: "28-031997791b05" }]);
    sysfs.w1.setTemperature("28-0316a2791f2a", 4.25);
    const reply = (await runtime.find("tank")!.rpc.read_now!(null)) as { values: Record<string, number> };
    assert.deepEqual(reply.values, { temperature: 4.25 });
    assert.ok(existsSync(sysfs.root));
    // sensor_scan: what the kernel lists, each marked when a device names it; an unconfigured probe shows too.
    await sysfs.w1.addProbe("28-00000a1b2c3d");
    assert.deepEqual(await hw.scanKernelSensors(), {
      w1: [
        { romId: "28-00000a1b2c3d", configured: false },
        { romId: "28-0316a2791f2a", configured: true },
        { romId: "28-031997791b05", configured: true },
      ],
      dht: [{ device: "iio:device23", name: "dht11@17", pin: 23, configured: true }],
    });
  } finally {
    await runtime.stop();
    const root = hw.sim!.sysfs!.root;
    await hw.close();
    assert.equal(existsSync(root), false, "the temp sysfs tree is removed on close");
  }
});
