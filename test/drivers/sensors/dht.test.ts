// DHT specifics on the IIO twin: picking the device by the overlay's pin, ETIMEDOUT bursts, the
// kernel's 2 s cache, and values outside what the part measures.
import { afterEach, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { dhtPinOf, listIioDht, openDht } from "../../../drivers/sensors/dht/dht.ts";
import { openKernelSensor } from "../../../drivers/sensors/kernelSensors.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";
import { SimSysfs } from "../../../drivers/sysfs/simSysfs.ts";
import { putFile } from "../../../drivers/sysfs/twinIo.ts";
import { join } from "node:path";

let sim: SimSysfs;
beforeEach(async () => {
  sim = await SimSysfs.create();
});
afterEach(async () => sim.remove());

test("the overlay's node name gives the pin: dht11@11 is GPIO 17, dht11@4 GPIO 4", () => {
  assert.equal(dhtPinOf("dht11@11"), 17);
  assert.equal(dhtPinOf("dht11@4"), 4);
  assert.equal(dhtPinOf("11.dht11"), 17);
  assert.equal(dhtPinOf("dht11"), null);
});

test("with two sensors, each device picks its own by pin; other IIO devices are ignored", async () => {
  await sim.iio.addSensor(0, 4, "dht22", { temperature: 18.2, humidity: 50.1 });
  await sim.iio.addSensor(1, 17, "dht11", { temperature: 27, humidity: 33 });
  await putFile(join(sim.iioDevices, "iio:device2", "name"), "mcp3008\n");
  assert.deepEqual(
    (await listIioDht(sim.io, sim.iioDevices)).map((d) => [d.device, d.pin]),
    [
      ["iio:device0", 4],
      ["iio:device1", 17],
    ],
  );
  const a = await openKernelSensor("dht22", sim, { pin: 4 });
  const b = await openKernelSensor("dht11", sim, { pin: 17 });
  assert.deepEqual((await a.read()).values, { temperature: 18.2, humidity: 50.1 });
  assert.deepEqual((await b.read()).values, { temperature: 27, humidity: 33 });
  await assert.rejects(openKernelSensor("dht22", sim, {}), /several dht11 IIO devices/);
  await assert.rejects(
    openKernelSensor("dht22", sim, { pin: 22 }),
    (err: unknown) => err instanceof SensorError && err.code === "ABSENT",
  );
  const byName = await openKernelSensor("dht11", sim, { iioDevice: "iio:device1" });
  assert.deepEqual((await byName.read()).values, { temperature: 27, humidity: 33 });
});

test("an ETIMEDOUT burst longer than the 2 s budget is TIMEOUT; a short one is absorbed", async () => {
  const device = await sim.iio.addSensor(0, 4, "dht22", { temperature: 20, humidity: 40 });
  const s = await openDht("dht22", sim.io, { pin: 4 }, sim.iioDevices, { budgetMs: 200, retryDelayMs: 20 });
  sim.iio.fail(device, "ETIMEDOUT", 2);
  assert.deepEqual((await s.read()).values, { temperature: 20, humidity: 40 });
  sim.iio.fail(device, "ETIMEDOUT", 1000);
  await assert.rejects(
    s.read(),
    (err: unknown) => err instanceof SensorError && err.code === "TIMEOUT" && /within 200 ms/.test(err.message),
  );
});

test("like the kernel, a reading younger than 2 s comes from the cache: one transfer for both attributes", async () => {
  const device = await sim.iio.addSensor(0, 4, "dht22");
  const s = await openKernelSensor("dht22", sim, { pin: 4 });
  await s.read();
  await s.read();
  assert.equal(sim.iio.transfers(device), 1);
});

test("a DHT11 reading outside 0..50 °C is BAD_DATA (the twin's DHT22 at -20 °C read as a DHT11)", async () => {
  await sim.iio.addSensor(0, 4, "dht22", { temperature: -20, humidity: 30 });
  const s = await openKernelSensor("dht11", sim, { pin: 4 });
  await assert.rejects(
    s.read(),
    (err: unknown) =>
      err instanceof SensorError && err.code === "BAD_DATA" && /outside what a DHT11 measures/.test(err.message),
  );
});
