// DS18B20 specifics on the w1 twin: several probes on one pin, discovery without a ROM id, the
// 85 °C power-on value, and a probe that stops answering before the kernel drops it.
import { afterEach, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { listDs18b20 } from "../../../drivers/sensors/ds18b20/ds18b20.ts";
import { openKernelSensor } from "../../../drivers/sensors/kernelSensors.ts";
import { SensorError } from "../../../drivers/sensors/types.ts";
import { SimSysfs } from "../../../drivers/sysfs/simSysfs.ts";

const A = "28-0316a2791f2a";
const B = "28-031997791b05";
let sim: SimSysfs;

beforeEach(async () => {
  sim = await SimSysfs.create();
});
afterEach(async () => sim.remove());

const isCode = (code: SensorError["code"], re?: RegExp) => (err: unknown) =>
  err instanceof SensorError && err.code === code && (!re || re.test(err.message));

test("several probes on one pin: each is its own sensor, named by its ROM id", async () => {
  await sim.w1.addProbe(A, 4.5);
  await sim.w1.addProbe(B, 61.25);
  assert.deepEqual(await listDs18b20(sim.io, sim.w1Devices), [A, B]);
  const a = await openKernelSensor("ds18b20", sim, { romId: A });
  const b = await openKernelSensor("ds18b20", sim, { romId: B.toUpperCase().replace("28-", "28-") });
  assert.equal(a.serialNumber, A);
  assert.equal(b.serialNumber, B);
  assert.deepEqual((await a.read()).values, { temperature: 4.5 });
  assert.deepEqual((await b.read()).values, { temperature: 61.25 });
  // Without a ROM id, several probes are ambiguous: say which are there.
  await assert.rejects(
    openKernelSensor("ds18b20", sim, {}),
    (err: unknown) => err instanceof SensorError && err.message.includes(A) && err.message.includes(B),
  );
});

test("a single probe is found without a ROM id; none at all says to enable the overlay", async () => {
  await assert.rejects(openKernelSensor("ds18b20", sim, {}), isCode("ABSENT", /dtoverlay=w1-gpio/));
  await sim.w1.addProbe(A, 19.0625);
  const s = await openKernelSensor("ds18b20", sim, {});
  assert.equal(s.serialNumber, A);
  assert.deepEqual((await s.read()).values, { temperature: 19.062 }, "w1_therm truncates 305 / 16 °C to 19062 m°C");
});

test("the 85.000 °C power-on value is retried once, then an error, never a reading", async () => {
  await sim.w1.addProbe(A, 22);
  const s = await openKernelSensor("ds18b20", sim, { romId: A });
  sim.w1.powerOnValue(A, 1);
  assert.deepEqual((await s.read()).values, { temperature: 22 }, "one power-on read is absorbed");
  sim.w1.powerOnValue(A, 2);
  await assert.rejects(s.read(), isCode("BAD_DATA", /85\.000 °C, its power-on value/));
  assert.deepEqual((await s.read()).values, { temperature: 22 });
});

test("on a pre-5.10 kernel a probe that stopped answering prints all-ones with crc=c9 NO: ABSENT", async () => {
  const { W1Twin } = await import("../../../drivers/sensors/ds18b20/w1Twin.ts");
  const legacy = new W1Twin(sim.io, sim.w1Devices, { legacy: true });
  await legacy.addProbe(A, 22);
  const s = await openKernelSensor("ds18b20", sim, { romId: A });
  assert.deepEqual((await s.read()).values, { temperature: 22 });
  const slave = join(sim.w1Devices, A, "w1_slave");
  sim.io.onRead(slave, () => "ff ff ff ff ff ff ff ff ff : crc=c9 NO\nff ff ff ff ff ff ff ff ff t=-62\n");
  await writeFile(slave, "");
  await assert.rejects(s.read(), isCode("ABSENT", /does not answer/));
});

test("a shorted data line (all zeros, crc=00 YES, t=0) is BAD_DATA, not 0 °C", async () => {
  const { W1Twin } = await import("../../../drivers/sensors/ds18b20/w1Twin.ts");
  const legacy = new W1Twin(sim.io, sim.w1Devices, { legacy: true });
  await legacy.addProbe(A, 22);
  const s = await openKernelSensor("ds18b20", sim, { romId: A });
  sim.io.onRead(
    join(sim.w1Devices, A, "w1_slave"),
    () => "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n",
  );
  await assert.rejects(s.read(), isCode("BAD_DATA", /data line shorted/));
});

test("a malformed romId is refused with the expected form", async () => {
  assert.throws(
    () => openKernelSensor("ds18b20", sim, { romId: "10-000802b5a1c3" }),
    /expected "28-" and 12 hex digits/,
  );
  assert.throws(() => openKernelSensor("ds18b20", sim, { pin: 40 }), /Invalid option pin for ds18b20/);
});
