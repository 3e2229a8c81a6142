// Devices added from the dashboard: validated against the main config by the same rules, kept in
// their own file (a real file in a temp dir), read back at the next start, and an entry the main
// config has since made invalid is skipped (and kept for a human), not fatal.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SimGpioChip } from "../../../drivers/gpio/sim.ts";
import { validateConfig } from "../../../server/config/load.ts";
import type { Config } from "../../../server/config/schema.ts";
import { MemoryDeviceMemory } from "../../../server/devices/deviceContext.ts";
import { DeviceRuntime } from "../../../server/devices/runtime.ts";
import { EventBus } from "../../../server/eventBus.ts";
import { PageDevices } from "../../../server/features/pageDevices.ts";
import { silentLogger } from "../../../server/util/logger.ts";
import { tempDir } from "../../fakes/tempDir.ts";

function config(devices: unknown[]): Config {
  const r = validateConfig({ thingsboard: { host: "tb.local", accessToken: "t" }, devices });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.config;
}

async function open(file: string, cfg: Config) {
  const bus = new EventBus();
  const runtime = new DeviceRuntime({ bus, log: silentLogger(), memory: new MemoryDeviceMemory() });
  const chip = new SimGpioChip();
  const disconnected: string[] = [];
  const pd = await PageDevices.open({
    file,
    config: cfg,
    runtime,
    bus,
    log: silentLogger(),
    disconnect: async (n) => {
      disconnected.push(n);
    },
    forgetHistory: () => {},
    onChanged: () => {},
  });
  await runtime.build(pd.merged(), "u", {
    gpio: async () => chip,
    openSensor: async () => {
      throw new Error("no sensors here");
    },
  });
  await runtime.start();
  return { pd, runtime, chip, disconnected };
}

describe("PageDevices", () => {
  test("added devices are validated with the main config, run, and come back after a restart", async () => {
    const file = join(tempDir("tbgw-pd-"), "devices.local.json");
    const main = config([{ id: "relays", kind: "gpio", outputs: [{ pin: 17 }] }]);
    const first = await open(file, main);
    const clash = await first.pd.add({ id: "fan", kind: "gpio", outputs: [{ pin: 17 }] });
    assert.deepEqual(clash, {
      ok: false,
      errors: ["device.outputs[0].pin: GPIO 17 (physical pin 11) is already used by devices[0].outputs[0].pin"],
    });
    assert.deepEqual(await first.pd.add({ id: "relays", kind: "gpio" }), {
      ok: false,
      errors: ['device.id: "relays" is already used by devices[0]'],
    });
    assert.deepEqual(await first.pd.add({ id: "fan", kind: "gpio", outputs: [{ pin: 5, label: "fan" }] }), {
      ok: true,
      id: "fan",
    });
    assert.deepEqual(
      first.runtime.list().map((d) => d.info.name),
      ["u relays", "u fan"],
    );
    assert.deepEqual(await first.pd.remove("relays"), {
      ok: false,
      errors: ["device relays is in the main config file, which the appliance cannot change: edit it there"],
    });
    await first.runtime.stop();
    await first.pd.close();

    const second = await open(file, main);
    assert.deepEqual(
      second.runtime.list().map((d) => d.info.id),
      ["relays", "fan"],
    );
    assert.match(second.pd.exportYaml(), /^- id: fan\n {2}kind: gpio\n {2}outputs:\n {4}- pin: 5\n {6}label: fan\n/m);
    assert.deepEqual(await second.pd.remove("fan"), { ok: true, id: "fan" });
    assert.deepEqual(second.disconnected, ["u fan"]);
    assert.deepEqual(
      second.runtime.list().map((d) => d.info.id),
      ["relays"],
    );
    await second.runtime.stop();
    await second.pd.close();
  });

  test("an entry the main config now clashes with is skipped and kept in the file", async () => {
    const file = join(tempDir("tbgw-pd-"), "devices.local.json");
    const first = await open(file, config([]));
    assert.equal((await first.pd.add({ id: "fan", kind: "gpio", outputs: [{ pin: 5 }] })).ok, true);
    await first.runtime.stop();
    await first.pd.close();
    // The main config took GPIO 5 since.
    const second = await open(file, config([{ id: "door", kind: "gpio", inputs: [{ pin: 5 }] }]));
    assert.deepEqual(
      second.runtime.list().map((d) => d.info.id),
      ["door"],
    );
    assert.equal((await second.pd.add({ id: "lamp", kind: "gpio", outputs: [{ pin: 6 }] })).ok, true);
    const stored = JSON.parse(readFileSync(file, "utf8")) as { devices: Array<{ id: string }> };
    assert.deepEqual(
      stored.devices.map((d) => d.id),
      ["lamp", "fan"],
      "the clashing entry is kept for a human to fix",
    );
    await second.runtime.stop();
    await second.pd.close();
  });
});
