// Runs the kernel sensor contract for the DS18B20 (current and pre-5.10 kernels) and DHT22/DHT11.
import { describeKernelSensorContract, type Environment } from "./kernelSensorContract.ts";

const ROM = "28-0316a2791f2a";
const t3 = (e: Environment) => ({ temperature: Math.round(e.temperature * 16) / 16 });

for (const legacy of [false, true]) {
  describeKernelSensorContract({
    title: `ds18b20 (${legacy ? "w1_slave only, kernels before 5.10" : "temperature attribute"})`,
    chip: "ds18b20",
    options: { romId: ROM, pin: 4 },
    async setup(sim) {
      const w1 = new (await import("../../../drivers/sensors/ds18b20/w1Twin.ts")).W1Twin(sim.io, sim.w1Devices, {
        legacy,
      });
      await w1.addProbe(ROM);
      return {
        set: (e) => w1.setTemperature(ROM, e.temperature),
        remove: () => w1.removeProbe(ROM),
        restore: () => w1.addProbe(ROM),
        corrupt: (n) => w1.failCrc(ROM, n),
      };
    },
    environments: [
      { temperature: 23.125, humidity: 0 },
      { temperature: -10.3, humidity: 0 },
    ],
    expected: t3,
    // 12-bit: 1/16 °C per count (datasheet table 1).
    tolerance: { temperature: 1 / 32 + 1e-9 },
    absorbed: 1,
    fatal: 2,
    failureCodes: ["CRC"],
  });
}

for (const chip of ["dht22", "dht11"] as const) {
  describeKernelSensorContract({
    title: `${chip} (dht11 IIO driver)`,
    chip,
    options: { pin: 17 },
    async setup(sim) {
      const device = await sim.iio.addSensor(0, 17, chip);
      return {
        set: (e) => sim.iio.set(e, device),
        remove: () => sim.iio.removeSensor(device),
        restore: async () => {
          await sim.iio.addSensor(0, 17, chip);
        },
        corrupt: (n) => sim.iio.fail(device, "EIO", n),
      };
    },
    environments:
      chip === "dht22"
        ? [
            { temperature: 24.3, humidity: 41.7 },
            { temperature: -7.9, humidity: 88.1 },
          ]
        : [
            { temperature: 24, humidity: 41 },
            { temperature: 31, humidity: 67 },
          ],
    expected: (e) => ({ temperature: e.temperature, humidity: e.humidity }),
    // DHT22: 0.1 °C / 0.1 %RH; DHT11: whole units.
    tolerance: chip === "dht22" ? { temperature: 0.051, humidity: 0.051 } : { temperature: 0.5, humidity: 0.5 },
    absorbed: 3,
    // 250 ms between attempts within the 2 s budget: at most 8 transfers per read.
    fatal: 12,
    failureCodes: ["IO"],
  });
}
