// The config the virtual Pi writes for the installed appliance (scripts/vm/guest/appliance.ts)
// must pass the appliance's own validation: a schema change that rejects it should fail here,
// not after a VM boot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigText } from "../../../server/config/load.ts";
import { configYaml, DOOR, RELAY1, RELAY2 } from "../../../scripts/vm/guest/appliance.ts";

test("the VM's config for a gpio-sim header and an i2c-stub BME280 is valid", () => {
  const r = loadConfigText(configYaml(0));
  assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  assert.equal(r.config.hardware, "pi");
  const gpio = r.config.devices.find((d) => d.kind === "gpio");
  assert.ok(gpio && gpio.kind === "gpio");
  assert.deepEqual(
    gpio.outputs.map((o) => o.pin),
    [RELAY1, RELAY2],
  );
  assert.deepEqual(
    gpio.inputs.map((i) => i.pin),
    [DOOR],
  );
  const sensor = r.config.devices.find((d) => d.kind === "sensor");
  assert.ok(sensor && sensor.kind === "sensor" && sensor.bus === 0 && sensor.chip === "bme280");
});
