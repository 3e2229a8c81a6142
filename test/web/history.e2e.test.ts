// Chart history kept on the appliance, in real headless Chromium over the real Controller (demo
// mode: simulated sensors, the embedded emulator): readings stored before a restart of the
// appliance are on the chart after it, and the range picker asks for the range it shows.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { validateConfig } from "../../server/config/load.ts";
import { Controller } from "../../server/controller.ts";
import { demoConfig } from "../../server/demo.ts";
import { silentLogger } from "../../server/util/logger.ts";
import { until } from "../fakes/waitFor.ts";
import { launchBrowser, screenshot, waitForTestId, watchErrors } from "./browser.ts";
import { startDemoThingsBoard } from "../../scripts/emulator/embedded.ts";
import { tempDir } from "../fakes/tempDir.ts";

const PASSWORD = "history e2e pass";

function appliance(dataDir: string): Controller {
  const raw = demoConfig() as Record<string, unknown>;
  raw["http"] = { port: 0, host: "127.0.0.1" };
  raw["dataDir"] = dataDir;
  raw["dashboard"] = { password: PASSWORD };
  raw["gateway"] = { statsPeriodSec: 86_400, remoteLogLevel: "off" };
  const parsed = validateConfig(raw);
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return new Controller({
    config: parsed.config,
    log: silentLogger(),
    demo: true,
    embeddedThingsBoard: startDemoThingsBoard,
    unit: "hist",
    version: "0.0.0-e2e",
    emulatorPorts: { mqtt: 0, http: 0 },
  });
}

async function firstChartTs(page: Page, id: string): Promise<number> {
  return Number(await page.getByTestId(`chart-${id}`).getAttribute("data-first-ts", { timeout: 5000 }));
}

describe("history on the appliance, in Chromium", () => {
  const dataDir = tempDir("tbgw-hist-e2e-");
  let controller: Controller | null = null;
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await controller?.stop();
  });

  test("readings from before a restart of the appliance are on the chart after it", async () => {
    controller = appliance(dataDir);
    await controller.start();
    const first = controller;
    const stored = await until(
      () => first.history("climate", "1h").series["temperature"]?.ts[0],
      "a stored climate reading",
      10_000,
    );
    await controller.stop();
    const restartedAt = Date.now();
    controller = appliance(dataDir);
    await controller.start();

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`http://127.0.0.1:${controller.httpPort}`, { timeout: 10_000 });
    await page.getByTestId("login-password").fill(PASSWORD, { timeout: 5000 });
    await page.getByTestId("login-submit").click();
    await page.getByTestId("chart-climate").waitFor({ timeout: 5000 });
    await until(async () => (await firstChartTs(page, "climate")) > 0, "the climate chart has points", 5000);
    const firstTs = await firstChartTs(page, "climate");
    assert.equal(firstTs, stored, "the chart starts at the first reading stored before the restart");
    assert.ok(firstTs < restartedAt);

    // The range picker: 24 h and 7 d come from the coarser tiers, still with the pre-restart reading.
    await page.getByTestId("range-24h").click();
    await waitForTestId(page, "range-24h", { attr: ["aria-pressed", "true"] });
    await until(
      async () => {
        const ts = await firstChartTs(page, "climate");
        return ts > 0 && ts <= stored && ts % 60_000 === 0;
      },
      "the 24 h chart from the 1 min tier",
      5000,
    );
    await page.getByTestId("range-7d").click();
    await until(
      async () => {
        const ts = await firstChartTs(page, "climate");
        return ts > 0 && ts <= stored && ts % 600_000 === 0;
      },
      "the 7 d chart from the 10 min tier",
      5000,
    );
    await page.getByTestId("range-1h").click();
    await until(async () => (await firstChartTs(page, "climate")) === stored, "back to the 1 h chart", 5000);
    // The time axis reads in hours and minutes.
    await screenshot(page, "history-after-restart");
    assert.deepEqual(errors, [], "no console errors or CSP violations");
    await context.close();
  });
});
