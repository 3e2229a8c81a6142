// The pictures of the dashboard (test-artifacts/, and docs/dashboard.png for the README when
// UPDATE_SCREENSHOTS=1): the real appliance in demo mode, with six hours of chart history written
// beforehand through the HistoryRecorder (as if it had been running) and one device added from the
// page, at 1280 px and 375 px, light and dark. The checks here are what a user would notice.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { validateConfig } from "../../server/config/load.ts";
import { Controller } from "../../server/controller.ts";
import { demoConfig } from "../../server/demo.ts";
import { EventBus } from "../../server/eventBus.ts";
import { HistoryRecorder } from "../../server/history/historyRecorder.ts";
import { silentLogger } from "../../server/util/logger.ts";
import { until } from "../fakes/waitFor.ts";
import { ARTIFACTS, launchBrowser, screenshot, waitForTestId, watchErrors, type PageDom } from "./browser.ts";
import { startDemoThingsBoard } from "../../scripts/emulator/embedded.ts";
import { tempDir } from "../fakes/tempDir.ts";

const PASSWORD = "screenshot pass";

/** Six hours of readings every minute, shaped like the demo world's drift (server/demo.ts). */
function seedHistory(file: string, now: number): void {
  const rec = new HistoryRecorder({ bus: new EventBus(), log: silentLogger(), file, now: () => now });
  rec.start();
  for (let t = now - 6 * 3_600_000; t < now - 60_000; t += 60_000) {
    // Hours before now: at 0 these are the demo world's starting values, so the live readings continue the line.
    const h = (t - now) / 3_600_000;
    const values = {
      temperature: 21.5 + 2 * Math.sin(h),
      humidity: 45 + 8 * Math.sin(h / 1.3 + 1),
      pressure: 1013.25 + 3 * Math.sin(h / 3),
    };
    for (const id of ["climate", "humidity", "air"])
      rec.record({ id, name: id, profile: "p", kind: "sensor", units: {}, values, updatedAt: t, health: "ok" });
    rec.record({
      id: "light",
      name: "light",
      profile: "p",
      kind: "sensor",
      units: {},
      values: { lux: Math.max(0, 350 + 250 * Math.sin(h * 1.7)) },
      updatedAt: t,
      health: "ok",
    });
  }
  rec.stop();
}

describe("dashboard screenshots at 1280 and 375 px", () => {
  let controller: Controller;
  let browser: Browser;

  before(async () => {
    const dataDir = tempDir("tbgw-shots-");
    seedHistory(join(dataDir, "history.db"), Date.now());
    writeFileSync(
      join(dataDir, "devices.local.json"),
      JSON.stringify({
        version: 1,
        devices: [
          {
            id: "fan",
            kind: "gpio",
            name: "{unit} fan",
            outputs: [{ pin: 5, label: "fan" }],
            report: { strategy: "onChange" },
          },
        ],
      }),
    );
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
      unit: "pi-4f2a",
      version: "0.1.0",
      emulatorPorts: { mqtt: 0, http: 0 },
    });
    [browser] = await Promise.all([launchBrowser(), controller.start()]);
  });
  after(async () => {
    await browser?.close();
    await controller?.stop();
  });

  async function open(width: number, height: number, dark = false): Promise<{ page: Page; errors: string[] }> {
    const page = await (
      await browser.newContext({ viewport: { width, height }, colorScheme: dark ? "dark" : "light" })
    ).newPage();
    const errors = watchErrors(page);
    await page.goto(`http://127.0.0.1:${controller.httpPort}`, { timeout: 10_000 });
    await page.getByTestId("login-password").fill(PASSWORD, { timeout: 5000 });
    await page.getByTestId("login-submit").click();
    await waitForTestId(page, "conn-state", { attr: ["data-state", "connected"] }, 10_000);
    await page.getByTestId("device-fan").waitFor({ timeout: 5000 });
    // The stored hour (one reading a minute) is on the charts.
    await until(
      async () => Number(await page.getByTestId("chart-climate").getAttribute("data-points")) > 50,
      "the last hour on the climate chart",
      5000,
    );
    await waitForTestId(page, "value-light-lux", { text: "lx" }, 8000);
    return { page, errors };
  }

  const noSideScroll = async (page: Page) => {
    const { scroll, client } = await page.evaluate(() => {
      const root = (globalThis as unknown as PageDom).document.documentElement;
      return { scroll: root.scrollWidth, client: root.clientWidth };
    });
    assert.ok(scroll <= client, `page is ${scroll} px wide in a ${client} px viewport`);
  };

  test("desktop, 1280 px: 24 h range, the README picture", async () => {
    const { page, errors } = await open(1280, 900);
    await page.getByTestId("range-24h").click();
    await until(
      async () => Number(await page.getByTestId("chart-climate").getAttribute("data-points")) > 300,
      "the 24 h chart",
      5000,
    );
    await noSideScroll(page);
    await screenshot(page, "dashboard-1280");
    // Pressure has the widest y labels (1013.35 was clipped to 013.35 before issue 14).
    await page.getByTestId("value-climate-pressure").click();
    await waitForTestId(page, "value-climate-pressure", { attr: ["aria-pressed", "true"] });
    await page.getByTestId("device-climate").screenshot({ path: join(ARTIFACTS, "chart-pressure-1280.png") });
    // The README's picture: written when missing or when asked, so a test run leaves no modified tracked file behind.
    const docShot = join(import.meta.dirname, "..", "..", "docs", "dashboard.png");
    if (process.env["UPDATE_SCREENSHOTS"] === "1" || !existsSync(docShot)) {
      await page.screenshot({ path: docShot, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1100 } });
    }
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("phone, 375 px, light and dark", async () => {
    for (const dark of [false, true]) {
      const { page, errors } = await open(375, 812, dark);
      await noSideScroll(page);
      await screenshot(page, dark ? "dashboard-375-dark" : "dashboard-375");
      if (!dark) {
        // What a phone shows first, and the header view on its own.
        await page.screenshot({ path: join(ARTIFACTS, "dashboard-375-top.png") });
        const docPhone = join(import.meta.dirname, "..", "..", "docs", "dashboard-phone.png");
        if (process.env["UPDATE_SCREENSHOTS"] === "1" || !existsSync(docPhone))
          await page.screenshot({ path: docPhone });
        await page.getByTestId("card-gpio").screenshot({ path: join(ARTIFACTS, "gpio-header-375.png") });
      }
      assert.deepEqual(errors, []);
      await page.context().close();
    }
  });
});
