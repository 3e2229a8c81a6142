// The config the virtual Pi writes for the installed appliance (scripts/vm/guest/appliance.ts)
// must pass the appliance's own validation: a schema change that rejects it should fail here,
// not after a VM boot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigText } from "../../../server/config/load.ts";
import { configYaml, DOOR, RELAY1, RELAY2 } from "../../../scripts/vm/guest/appliance.ts";
import { ADS1115_ADDRESS, ADS1115_OPTIONS } from "../../../scripts/vm/guest/ads1115Image.ts";

test("the VM's config for a gpio-sim header and an i2c-stub BME280 and ADS1115 is valid", () => {
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
  const sensors = r.config.devices.filter((d) => d.kind === "sensor");
  assert.deepEqual(
    sensors.map((d) => d.kind === "sensor" && [d.chip, d.bus, d.address]),
    [
      ["bme280", 0, 0x76],
      ["ads1115", 0, ADS1115_ADDRESS],
    ],
  );
  // The options the host test (stubImages.test.ts) reads the ADS1115 image with.
  const ads = sensors[1];
  assert.ok(ads && ads.kind === "sensor");
  assert.deepEqual(ads.options, { ...ADS1115_OPTIONS, channels: [...ADS1115_OPTIONS.channels] });
});
