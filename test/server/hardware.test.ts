// hardware: auto must never turn into simulated readings on a machine without the Pi's
// interfaces (issue 18: a copy of config.example.yaml sent "Climate" 21.5 / 45 / 1013.25 to
// ThingsBoard as if measured). The probe is injected: this machine has no Pi interfaces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Hardware, HardwareUnavailableError } from "../../server/hardware.ts";
import { validateConfig } from "../../server/config/load.ts";
import type { Config } from "../../server/config/schema.ts";
import { recordingLogger } from "../fakes/appHarness.ts";

function config(hardware: "auto" | "pi" | "sim"): Config {
  const r = validateConfig({
    hardware,
    thingsboard: { host: "tb.local", accessToken: "t" },
    devices: [{ id: "climate", kind: "sensor", chip: "bme280" }],
  });
  if (!r.ok) throw new Error(r.errors.join("; "));
  return r.config;
}

const NONE = { gpioSysfs: false, i2cBus1: false };

test("auto without GPIO sysfs and without /dev/i2c-1 refuses, saying what is missing and how to enable it", () => {
  const { log } = recordingLogger();
  assert.throws(
    () => Hardware.create(config("auto"), log, NONE),
    (err: unknown) => {
      assert.ok(err instanceof HardwareUnavailableError);
      assert.match(err.message, /no GPIO sysfs \(\/sys\/class\/gpio\/export\) and no I2C bus 1 \(\/dev\/i2c-1\)/);
      assert.match(err.message, /raspi-config nonint do_i2c 0/);
      assert.match(err.message, /install\.sh --enable-i2c/);
      assert.match(err.message, /hardware: sim \(HARDWARE=sim\): readings are then simulated/);
      return true;
    },
  );
});

test("auto picks the Pi when either interface is there, never the simulation", () => {
  for (const probe of [
    { gpioSysfs: true, i2cBus1: false },
    { gpioSysfs: false, i2cBus1: true },
    { gpioSysfs: true, i2cBus1: true },
  ]) {
    const { log } = recordingLogger();
    const hw = Hardware.create(config("auto"), log, probe);
    assert.equal(hw.kind, "pi", JSON.stringify(probe));
    assert.equal(hw.sim, null, "no simulated chips behind a Pi");
  }
});

test("sim only when asked for, and it says the readings are made up", () => {
  const { log, records } = recordingLogger();
  const hw = Hardware.create(config("sim"), log, NONE);
  assert.equal(hw.kind, "sim");
  assert.ok(
    records.some((r) => r.level === "warn" && /every reading is made up/.test(r.msg)),
    JSON.stringify(records),
  );
});

test("pi is taken at its word (the drivers report what they cannot open)", () => {
  const { log } = recordingLogger();
  assert.equal(Hardware.create(config("pi"), log, NONE).kind, "pi");
});
