// Devices added from the page, in real headless Chromium over the real Controller (demo mode:
// simulated hardware, the embedded ThingsBoard emulator): a GPIO output and a scanned chip are
// added, used, edited and removed without a restart; ThingsBoard is told with v1/gateway/connect
// and v1/gateway/disconnect (the emulator follows ThingsBoard's GatewaySessionHandler.java), the
// main config is untouched, and the page's devices are kept in data/devices.local.json.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { createChipModel } from "../../drivers/sensors/index.ts";
import type { Emulator } from "../../scripts/emulator/index.ts";
import { validateConfig } from "../../server/config/load.ts";
import { Controller } from "../../server/controller.ts";
import { demoConfig } from "../../server/demo.ts";
import { silentLogger } from "../../server/util/logger.ts";
import { until } from "../fakes/waitFor.ts";
import { launchBrowser, screenshot, textOf, waitForTestId, watchErrors } from "./browser.ts";
import { startDemoThingsBoard } from "../../scripts/emulator/embedded.ts";
import { tempDir } from "../fakes/tempDir.ts";

const PASSWORD = "page devices pass";
const UNIT = "pd";

describe("devices added from the page, in Chromium", () => {
  const dataDir = tempDir("tbgw-pagedev-");
  const localFile = join(dataDir, "devices.local.json");
  let controller: Controller;
  let emulator: Emulator;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const connects: string[] = [];
  const disconnects: string[] = [];

  before(async () => {
    const raw = demoConfig() as Record<string, unknown>;
    raw["http"] = { port: 0, host: "127.0.0.1" };
    raw["dataDir"] = dataDir;
    raw["dashboard"] = { password: PASSWORD };
    raw["gateway"] = { statsPeriodSec: 86_400, remoteLogLevel: "off" };
    const parsed = validateConfig(raw);
    if (!parsed.ok) throw new Error(parsed.errors.join("; "));
    controller = new Controller({
      config: parsed.config,
      log: silentLogger(),
      demo: true,
      embeddedThingsBoard: startDemoThingsBoard,
      unit: UNIT,
      version: "0.0.0-e2e",
      emulatorPorts: { mqtt: 0, http: 0 },
    });
    [browser] = await Promise.all([launchBrowser(), controller.start()]);
    emulator = controller.emulator as Emulator;
    emulator.events.on("connect", (name: string) => connects.push(name));
    emulator.events.on("disconnect", (name: string) => disconnects.push(name));
    // A second BME280 (SDO high, 0x77) wired to the simulated bus but not in the config: the scan finds it.
    const bus = controller.hardware.sim?.buses.get(1);
    if (!bus) throw new Error("simulated I2C bus 1 is not open");
    const model = createChipModel("bme280", { options: {} });
    bus.attach(0x77, model);
    controller.hardware.sim?.models.set("1:119", model);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    errors = watchErrors(page);
    page.on("dialog", (d) => {
      d.accept().catch(() => {});
    });
    await page.goto(`http://127.0.0.1:${controller.httpPort}`, { timeout: 10_000 });
    await page.getByTestId("login-password").fill(PASSWORD, { timeout: 5000 });
    await page.getByTestId("login-submit").click();
    await waitForTestId(page, "conn-state", { attr: ["data-state", "connected"] }, 10_000);
  });
  after(async () => {
    await browser?.close();
    await controller?.stop();
  });

  test("a GPIO output added from the page is announced, switchable and on the header; a clash is refused", async () => {
    const startedAt = controller.snapshot().app.startedAt;
    await page.getByTestId("add-gpio-button").click();
    await page.getByTestId("device-dialog").waitFor({ timeout: 5000 });
    // A pin the main config already uses: the same validator as the config file says why.
    await page.getByTestId("device-form-id").fill("fan");
    await page.getByTestId("device-form-pin").fill("17");
    await page.getByTestId("device-form-label").fill("fan");
    await page.getByTestId("device-form-save").click();
    await waitForTestId(page, "device-form-error", {
      text: "device.outputs[0].pin: GPIO 17 (physical pin 11) is already used by devices[0].outputs[0].pin",
    });
    await page.getByTestId("device-form-pin").fill("5");
    await page.getByTestId("device-form-save").click();
    await page.getByTestId("device-dialog").waitFor({ state: "hidden", timeout: 5000 });
    await page.getByTestId("device-fan").waitFor({ timeout: 5000 });
    assert.equal(await page.getByTestId("from-page-fan").isVisible(), true);
    await until(() => connects.includes(`${UNIT} fan`), "v1/gateway/connect for the new device", 5000);
    // Used: the switch drives the pin, and ThingsBoard gets the telemetry.
    await page.getByTestId("switch-fan-5").click();
    await waitForTestId(page, "switch-fan-5", { attr: ["aria-checked", "true"] });
    await until(
      () => emulator.telemetry(`${UNIT} fan`, "fan").at(-1)?.values["fan"] === true,
      "fan=true in ThingsBoard",
      5000,
    );
    assert.equal(controller.hardware.sim?.gpio.level(5), 1);
    await waitForTestId(page, "pin-29", { attr: ["data-level", "on"] });
    assert.equal(await page.getByTestId("pin-29").locator(".hrole").textContent(), "output fan (fan)");
    // Stored under the data directory, not in the main config.
    await until(
      () =>
        (JSON.parse(readFileSync(localFile, "utf8")) as { devices: Array<{ id: string }> }).devices
          .map((d) => d.id)
          .join() === "fan",
      "fan in devices.local.json",
      5000,
    );
    assert.equal(controller.snapshot().app.startedAt, startedAt, "no restart");
  });

  test("a chip from the I2C scan is added with a few fields and reports", async () => {
    await page.getByTestId("scan-button").click();
    await page.getByTestId("i2c-add-1-0x77").click({ timeout: 5000 });
    assert.equal(await page.getByTestId("device-form-id").inputValue(), "bme280_77");
    await page.getByTestId("device-form-id").fill("attic");
    await page.getByTestId("device-form-interval").fill("1");
    await page.getByTestId("device-form-strategy").selectOption("every");
    await page.getByTestId("device-form-save").click();
    await page.getByTestId("device-attic").waitFor({ timeout: 5000 });
    await waitForTestId(page, "value-attic-temperature", { text: "°C" }, 8000);
    assert.equal(
      await page.getByTestId("from-page-attic").isVisible(),
      true,
      "still marked as the page's after its first readings",
    );
    await until(
      () => emulator.telemetry(`${UNIT} attic`, "temperature").length > 0,
      "attic telemetry in ThingsBoard",
      8000,
    );
    await page.getByTestId("scan-button").click();
    await waitForTestId(page, "i2c-row-1-0x77", { text: "yes" });
  });

  test("export as YAML, then edit and remove from the page, without a restart", async () => {
    await page.getByTestId("export-button").click();
    await page.getByTestId("export-card").waitFor({ timeout: 5000 });
    const yaml = await textOf(page, "export-yaml");
    assert.match(yaml, /- id: fan\n\s+kind: gpio/, yaml);
    assert.match(yaml, /- id: attic\n[\s\S]*chip: bme280\n[\s\S]*address: 119/);
    const parsedBack = validateConfig({
      thingsboard: { host: "tb.local", accessToken: "t" },
      devices: (await import("yaml")).parse(yaml) as unknown[],
    });
    assert.ok(parsedBack.ok, "the export is a valid devices: block");
    await screenshot(page, "page-devices-desktop");

    await page.getByTestId("edit-fan").click();
    await page.getByTestId("device-form-label").fill("vent");
    await page.getByTestId("device-form-save").click();
    await waitForTestId(page, "switch-fan-5", { text: "vent" });
    await page.getByTestId("remove-fan").click();
    await page.getByTestId("device-fan").waitFor({ state: "detached", timeout: 5000 });
    await until(() => disconnects.includes(`${UNIT} fan`), "v1/gateway/disconnect for the removed device", 5000);
    assert.equal(controller.hardware.sim?.gpio.level(5), 0, "the output went to its safe state");
    await page.getByTestId("remove-attic").click();
    await page.getByTestId("device-attic").waitFor({ state: "detached", timeout: 5000 });
    // The card goes with the devicesChanged snapshot; the file is written right after.
    await until(
      () => (JSON.parse(readFileSync(localFile, "utf8")) as { devices: unknown[] }).devices.length === 0,
      "devices.local.json emptied",
      5000,
    );
    assert.equal(await page.getByTestId("pin-29").locator(".hrole").textContent(), "");
    assert.deepEqual(errors, [], "no console errors or CSP violations");
  });
});
