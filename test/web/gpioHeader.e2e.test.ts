// The 40-pin header view in real headless Chromium over the fake context: pins as on the board,
// roles from the configuration, live levels, and conflicts marked with the physical pin named.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { headerView } from "../../server/config/gpioHeader.ts";
import { configSchema } from "../../server/config/schema.ts";
import { ADMIN_PASSWORD, startDashboard, type Running } from "../server/http/harness.ts";
import { launchBrowser, screenshot, textOf, waitForTestId, watchErrors } from "./browser.ts";

/** [name, role] of a header pin. */
async function pinText(page: Page, id: string): Promise<[string, string]> {
  const pin = page.getByTestId(id);
  return [(await pin.locator(".hname").textContent()) ?? "", (await pin.locator(".hrole").textContent()) ?? ""];
}

describe("GPIO header view in Chromium", () => {
  let run: Running;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    [run, browser] = await Promise.all([startDashboard(), launchBrowser()]);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    errors = watchErrors(page);
    await page.goto(run.base, { timeout: 10_000 });
    await page.getByTestId("login-password").fill(ADMIN_PASSWORD, { timeout: 5000 });
    await page.getByTestId("login-submit").click();
    await waitForTestId(page, "socket-state", { attr: ["data-state", "live"] });
  });
  after(async () => {
    await browser?.close();
    await run?.close();
  });

  test("40 pins with physical and BCM numbers, power, ground and each configured role", async () => {
    await page.getByTestId("pin-40").waitFor({ timeout: 5000 });
    assert.equal(await page.locator('[data-testid="gpio-header"] .hpin').count(), 40);
    assert.equal(await page.getByTestId("pin-1").getAttribute("data-kind"), "3v3");
    assert.equal(await page.getByTestId("pin-2").getAttribute("data-kind"), "5v");
    assert.equal(await page.getByTestId("pin-6").getAttribute("data-kind"), "gnd");
    // The fake configuration: Pump on GPIO 17 (pin 11), Light on 22 (15), Door on 27 (13), a BME280 on I2C1, the claim button on GPIO 5 (29), the UART on.
    assert.deepEqual(await pinText(page, "pin-11"), ["GPIO17", "output Pump (relays)"]);
    assert.deepEqual(await pinText(page, "pin-13"), ["GPIO27", "input Door (relays)"]);
    assert.deepEqual(await pinText(page, "pin-3"), ["GPIO2", "I2C1 SDA: bme280"]);
    assert.deepEqual(await pinText(page, "pin-29"), ["GPIO5", "claim button"]);
    assert.deepEqual(await pinText(page, "pin-8"), ["GPIO14", "UART TX (serial console)"]);
    assert.equal(await page.getByTestId("gpio-conflicts").isVisible(), false);
  });

  test("levels follow the devices live", async () => {
    await waitForTestId(page, "pin-15", { attr: ["data-level", "on"] }); // Light is on
    assert.equal(await page.getByTestId("pin-11").getAttribute("data-level"), "off");
    run.fake.update("relays", { Pump: true });
    await waitForTestId(page, "pin-11", { attr: ["data-level", "on"] });
    run.fake.update("relays", { Pump: false });
    await waitForTestId(page, "pin-11", { attr: ["data-level", "off"] });
  });

  test("a conflict is marked on the pin and named with its physical pin", async () => {
    const saved = run.fake.state.header;
    // A relay on the UART's TX pin while the UART is on (the config validator cannot see the Pi's UART setting).
    const cfg = configSchema.parse({
      thingsboard: { host: "tb.local", accessToken: "t" },
      devices: [{ id: "relays", kind: "gpio", outputs: [{ pin: 14, label: "Siren" }] }],
    });
    run.fake.state.header = headerView(cfg, true);
    run.fake.bus.emit("devicesChanged");
    await waitForTestId(page, "pin-8", { attr: ["data-conflict", "true"] });
    assert.match(await textOf(page, "gpio-conflicts"), /GPIO 14 \(physical pin 8\) belongs to UART TX/);
    await screenshot(page, "gpio-header-conflict");
    run.fake.state.header = saved;
    run.fake.bus.emit("devicesChanged");
    await page.getByTestId("gpio-conflicts").waitFor({ state: "hidden", timeout: 5000 });
    assert.deepEqual(errors, []);
  });
});
