// The details users noticed (issue 14), in real headless Chromium over the fake context: phone
// order, failed commands in the event log, labels, the login page's pill, the claim button, dark mode.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ADMIN_PASSWORD, startDashboard, type Running } from "../server/http/harness.ts";
import { launchBrowser, screenshot, textOf, waitForTestId, watchErrors } from "./browser.ts";

interface Probe {
  document: { querySelector(s: string): { getBoundingClientRect(): { top: number } } | null; body: unknown };
  getComputedStyle(e: unknown): { backgroundColor: string };
}

async function logIn(page: Page, base: string): Promise<void> {
  await page.goto(base, { timeout: 10_000 });
  await page.getByTestId("login-password").fill(ADMIN_PASSWORD, { timeout: 5000 });
  await page.getByTestId("login-submit").click({ timeout: 5000 });
  await waitForTestId(page, "socket-state", { attr: ["data-state", "live"] });
  await page.getByTestId("device-env").waitFor({ timeout: 5000 });
}

const topOf = (page: Page, selector: string) =>
  page.evaluate(
    (sel) => (globalThis as unknown as Probe).document.querySelector(sel)?.getBoundingClientRect().top ?? NaN,
    selector,
  );

describe("dashboard details in Chromium", () => {
  let run: Running;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const newPage = async (opts: {
    width: number;
    height: number;
    dark?: boolean;
  }): Promise<{ page: Page; errors: string[] }> => {
    const context = await browser.newContext({
      viewport: { width: opts.width, height: opts.height },
      colorScheme: opts.dark ? "dark" : "light",
    });
    contexts.push(context);
    const page = await context.newPage();
    return { page, errors: watchErrors(page) };
  };

  before(async () => {
    [run, browser] = await Promise.all([startDashboard({}, { loginAttemptsPerMinute: 1000 }), launchBrowser()]);
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await run?.close();
  });

  test("the login page has no offline pill; labels say what they show", async () => {
    const { page, errors } = await newPage({ width: 1280, height: 900 });
    await page.goto(run.base, { timeout: 10_000 });
    await page.getByTestId("view-login").waitFor({ timeout: 5000 });
    assert.equal(await page.getByTestId("socket-state").isVisible(), false, "no socket pill before logging in");
    await logIn(page, run.base);
    assert.equal(await page.getByTestId("socket-state").isVisible(), true);
    assert.equal(await page.locator('dt:text-is("CPU temperature")').count(), 1);
    assert.equal(await textOf(page, "app-cpu"), "47.2 °C");
    assert.equal(await textOf(page, "app-unit"), "testpi", "unit and hostname are the same: said once");
    assert.deepEqual(errors, []);
  });

  test("a refused command looks failed in the event log, under the device's one name", async () => {
    const { page } = await newPage({ width: 1280, height: 900 });
    await logIn(page, run.base);
    run.fake.bus.emit("eventLog", {
      ts: Date.now(),
      kind: "rpc",
      device: "testpi relays",
      text: "dashboard RPC setGpioStatus({pin:22}) failed: output is locked",
      ok: false,
    });
    run.fake.bus.emit("eventLog", {
      ts: Date.now(),
      kind: "rpc",
      device: "testpi relays",
      text: "ThingsBoard RPC toggle_gpio({pin:17}) -> {on}",
      ok: true,
    });
    const failed = page.locator('[data-testid="event-log"] li[data-failed]');
    await failed.first().waitFor({ timeout: 5000 });
    assert.equal(await failed.count(), 1);
    assert.match((await failed.textContent()) ?? "", /rpc failed.*testpi relays.*failed: output is locked/);
    const colour = await failed
      .locator(".kind")
      .evaluate((e) => (globalThis as unknown as Probe).getComputedStyle(e).backgroundColor);
    assert.equal(colour, "rgb(254, 226, 226)", "failed entries are red");
  });

  test("the claim button shows only when a device has something to claim", async () => {
    const { page } = await newPage({ width: 1280, height: 900 });
    await logIn(page, run.base);
    assert.equal(await page.getByTestId("claim-button").isVisible(), true);
    run.fake.state.claimable = [];
    run.fake.bus.emit("devicesChanged");
    await page.getByTestId("claim-button").waitFor({ state: "hidden", timeout: 5000 });
    assert.match(await textOf(page, "claim-state"), /No device has a claim section/);
    run.fake.state.claimable = ["relays"];
  });

  test("phone: devices first, status cards after; desktop: status cards on top", async () => {
    const phone = (await newPage({ width: 375, height: 812 })).page;
    await logIn(phone, run.base);
    assert.ok(
      (await topOf(phone, '[data-testid="devices"]')) < (await topOf(phone, '[data-testid="card-connection"]')),
      "devices above the status cards at 375 px",
    );
    const desk = (await newPage({ width: 1280, height: 900 })).page;
    await logIn(desk, run.base);
    assert.ok(
      (await topOf(desk, '[data-testid="card-connection"]')) < (await topOf(desk, '[data-testid="devices"]')),
      "status cards on top at 1280 px",
    );
  });

  test("dark mode follows the system setting", async () => {
    const { page, errors } = await newPage({ width: 1280, height: 900, dark: true });
    await logIn(page, run.base);
    const bg = await page.evaluate(() => {
      const g = globalThis as unknown as Probe;
      return g.getComputedStyle(g.document.body).backgroundColor;
    });
    assert.equal(bg, "rgb(15, 23, 42)");
    await screenshot(page, "dashboard-dark-desktop");
    assert.deepEqual(errors, []);
  });
});
