// The whole appliance in demo mode (real Controller, simulated hardware, the in-process
// ThingsBoard emulator) seen through the dashboard in real headless Chromium.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Emulator } from "../../scripts/emulator/index.ts";
import { validateConfig } from "../../server/config/load.ts";
import { Controller } from "../../server/controller.ts";
import { demoConfig } from "../../server/demo.ts";
import { silentLogger } from "../../server/util/logger.ts";
import { until } from "../fakes/waitFor.ts";
import { launchBrowser, screenshot, textOf, waitForTestId, watchErrors } from "./browser.ts";
import { startDemoThingsBoard } from "../../scripts/emulator/embedded.ts";
import { tempDir } from "../fakes/tempDir.ts";

const PASSWORD = "e2e dashboard pass";
const UNIT = "e2e";
const GPIO = `${UNIT} GPIO`;

describe("full app in Chromium (demo mode with the emulator)", () => {
  let controller: Controller<Emulator>;
  let emulator: Emulator;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    const raw = demoConfig() as Record<string, unknown>;
    raw["http"] = { port: 0, host: "127.0.0.1" };
    raw["dataDir"] = tempDir("tbgw-e2e-");
    raw["dashboard"] = { password: PASSWORD };
    raw["thingsboard"] = { ...(raw["thingsboard"] as object), reconnectMinMs: 100, reconnectMaxMs: 1000 };
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
    const emu = controller.emulator;
    if (!emu) throw new Error("demo mode started no emulator");
    emulator = emu;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    errors = watchErrors(page);
  });
  after(async () => {
    await browser?.close();
    await controller?.stop();
  });

  test("log in and see the demo devices, connected to ThingsBoard", async () => {
    await page.goto(`http://127.0.0.1:${controller.httpPort}`, { timeout: 10_000 });
    await page.getByTestId("login-password").fill(PASSWORD, { timeout: 5000 });
    await page.getByTestId("login-submit").click();
    for (const id of ["gpio", "climate", "humidity", "light", "air", "power", "tank", "pipe", "porch", "pwm"])
      await page.getByTestId(`device-${id}`).waitFor({ timeout: 5000 });
    await waitForTestId(page, "conn-state", { attr: ["data-state", "connected"] }, 10_000);
    assert.equal(await page.getByTestId("switch-gpio-17").count(), 1);
    assert.equal(await page.getByTestId("input-gpio-22").count(), 1);
  });

  test("a sensor value changes live", async () => {
    await waitForTestId(page, "value-climate-temperature", { text: "°C" }, 8000);
    const first = await textOf(page, "value-climate-temperature");
    await waitForTestId(page, "value-climate-temperature", { textNot: first }, 10_000);
  });

  test("the SHT4x and INA219 twins show their values with units", async () => {
    await waitForTestId(page, "value-air-humidity", { text: "%" }, 8000);
    await waitForTestId(page, "value-power-current", { text: "A" }, 8000);
    await waitForTestId(page, "value-power-shuntVoltage", { text: "mV" }, 8000);
  });

  test("the DS18B20 and DHT22 twins (fake w1 and IIO sysfs trees) show their values", async () => {
    await waitForTestId(page, "value-tank-temperature", { text: "°C" }, 8000);
    await waitForTestId(page, "value-porch-humidity", { text: "%" }, 8000);
  });

  test("a PWM slider sets the output through setPwm; the value reaches ThingsBoard and the twin", async () => {
    await waitForTestId(page, "pwm-value-pwm-18", { text: "0 %" }, 8000);
    await page.getByTestId("pwm-pwm-18").fill("0.4");
    await waitForTestId(page, "pwm-value-pwm-18", { text: "40 %" });
    await until(
      () => emulator.telemetry(`${UNIT} PWM`, "fan").at(-1)?.values["fan"] === 0.4,
      "fan=0.4 in the emulator's telemetry",
      5000,
    );
    assert.equal(controller.hardware.sim?.sysfs?.pwm.channel(0)?.dutyNs, 16_000, "40 % of the 25 kHz period");
    await waitForTestId(page, "pwm-value-pwm-13", { text: "1000 µs" });
  });

  test("toggling an output on the page reaches ThingsBoard as telemetry", async () => {
    assert.equal(await page.getByTestId("switch-gpio-17").getAttribute("aria-checked"), "false");
    await page.getByTestId("switch-gpio-17").click();
    await waitForTestId(page, "switch-gpio-17", { attr: ["aria-checked", "true"] });
    await until(
      () => emulator.telemetry(GPIO, "relay1").at(-1)?.values["relay1"] === true,
      "relay1=true in the emulator's telemetry",
      5000,
    );
  });

  test("an RPC from ThingsBoard shows on the page", async () => {
    assert.equal(await page.getByTestId("switch-gpio-27").getAttribute("aria-checked"), "false");
    const res = await emulator.rpc(GPIO, "toggle_gpio", { pin: 27 }, { twoWay: true, timeoutMs: 5000 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await waitForTestId(page, "switch-gpio-27", { attr: ["aria-checked", "true"] });
    await screenshot(page, "full-app-desktop");
  });

  test("the connection indicator goes offline when ThingsBoard goes away and back when it returns", async () => {
    await emulator.pause();
    await waitForTestId(page, "conn-state", { attrNot: ["data-state", "connected"] }, 10_000);
    assert.notEqual(await textOf(page, "conn-state"), "online");
    await emulator.resume();
    await waitForTestId(page, "conn-state", { attr: ["data-state", "connected"] }, 15_000);
    assert.equal(await textOf(page, "conn-state"), "online");
    assert.ok(Number(await textOf(page, "conn-reconnects")) >= 1);
    assert.deepEqual(errors, [], "no console errors or CSP violations");
  });
});
