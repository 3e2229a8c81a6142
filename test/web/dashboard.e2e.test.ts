// The dashboard in real headless Chromium against a real server over the fake context:
// log in, live values, switches through the dispatcher, connection indicator, phone layout.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createLogger } from "../../server/util/logger.ts";
import { ADMIN_PASSWORD, startDashboard, VIEWER_PASSWORD, type Running } from "../server/http/harness.ts";
import { launchBrowser, screenshot, textOf, waitForTestId, watchErrors, type PageDom } from "./browser.ts";

async function logIn(page: Page, base: string, password: string): Promise<void> {
  await page.goto(base, { timeout: 10_000 });
  await page.getByTestId("login-password").fill(password, { timeout: 5000 });
  await page.getByTestId("login-submit").click({ timeout: 5000 });
  await waitForTestId(page, "socket-state", { attr: ["data-state", "live"] });
  await page.getByTestId("device-env").waitFor({ timeout: 5000 });
}

describe("dashboard in Chromium (fake context)", () => {
  let run: Running;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const newPage = async (viewport = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> => {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    return { page, errors: watchErrors(page) };
  };

  before(async () => {
    [run, browser] = await Promise.all([
      startDashboard(
        { dashboard: { password: ADMIN_PASSWORD, viewerPassword: VIEWER_PASSWORD } },
        { loginAttemptsPerMinute: 1000 },
      ),
      launchBrowser(),
    ]);
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await run?.close();
  });

  test("login page, wrong password, then the live dashboard with every device", async () => {
    const { page, errors } = await newPage();
    const t0 = Date.now() - 120_000;
    const env = run.fake.device("env");
    env.updatedAt = t0;
    await page.goto(run.base, { timeout: 10_000 });
    await page.getByTestId("view-login").waitFor({ timeout: 5000 });
    await page.getByTestId("login-password").fill("not the password");
    await page.getByTestId("login-submit").click();
    await waitForTestId(page, "login-error", { text: "Wrong password." });
    await logIn(page, run.base, ADMIN_PASSWORD);
    assert.equal(await textOf(page, "unit-name"), "testpi");
    assert.equal(await textOf(page, "conn-state"), "online");
    assert.equal(await textOf(page, "value-env-temperature"), "temperature21.50 °C");
    assert.equal(await page.getByTestId("switch-relays-22").getAttribute("aria-checked"), "true");
    assert.equal(await page.getByTestId("switch-relays-17").getAttribute("aria-checked"), "false");
    assert.equal(await page.getByTestId("input-relays-27").getAttribute("data-state"), "off");
    assert.match(await textOf(page, "updated-env"), /s ago$/);
    assert.match(await textOf(page, "event-log"), /appliance started/);
    assert.equal(await page.locator('[data-testid="chart-env"] canvas').count(), 1, "sensor chart drawn");
    await page.getByTestId("scan-button").click();
    await page.getByTestId("i2c-row-1-0x76").waitFor({ timeout: 5000 });
    assert.match(await textOf(page, "i2c-row-1-0x76"), /bme280/);
    // An identified chip that is not in the config gets a ready-to-paste config line.
    assert.equal(
      await textOf(page, "i2c-snippet-1-0x44"),
      "- { id: sht31_44, kind: sensor, chip: sht31, bus: 1, address: 0x44 }",
    );
    // Two minutes of readings (timestamps in the past) so the chart draws a line.
    for (let i = 1; i <= 20; i++) {
      run.fake.bus.emit("deviceUpdated", {
        ...env,
        values: { ...env.values, temperature: 21.5 + Math.sin(i / 3) },
        updatedAt: t0 + i * 6000,
      });
      await new Promise((r) => setTimeout(r, 25)); // let each one through the coalescer
    }
    await waitForTestId(page, "value-env-temperature", { text: (21.5 + Math.sin(20 / 3)).toFixed(2) });
    // The README's picture comes from test/web/screenshots.e2e.test.ts (the real appliance, with history).
    await screenshot(page, "dashboard-desktop");
    // The wrong password's 401 is logged by Chromium as a failed resource; anything else is a bug.
    assert.deepEqual(
      errors.filter((e) => !/status of 401/.test(e)),
      [],
      "no console errors or CSP violations",
    );
  });

  test("values, inputs and the connection indicator follow bus events live", async () => {
    const { page, errors } = await newPage();
    await logIn(page, run.base, ADMIN_PASSWORD);
    run.fake.update("env", { temperature: 25.25, humidity: 55 });
    await waitForTestId(page, "value-env-temperature", { text: "25.25 °C" });
    await waitForTestId(page, "value-env-humidity", { text: "55 %" });
    run.fake.update("relays", { Door: true });
    await waitForTestId(page, "input-relays-27", { attr: ["data-state", "on"] });
    run.fake.update("env", {}, { health: "degraded", error: "CRC error on read" });
    await waitForTestId(page, "health-env", { attr: ["data-state", "degraded"] });
    await waitForTestId(page, "error-env", { text: "CRC error on read" });

    run.fake.bus.emit("connection", {
      state: "backoff",
      since: Date.now(),
      server: "127.0.0.1:1883",
      mqttVersion: 5,
      reconnects: 3,
      lastError: "connect ECONNREFUSED",
      nextRetryAt: Date.now() + 8000,
    });
    await waitForTestId(page, "conn-state", { attr: ["data-state", "backoff"] });
    assert.equal(await textOf(page, "conn-state"), "offline");
    assert.equal(await textOf(page, "conn-error"), "connect ECONNREFUSED");
    assert.equal(await textOf(page, "conn-reconnects"), "3");
    run.fake.bus.emit("outbox", {
      queued: 42,
      onDisk: 40,
      points: 120,
      oldestTs: Date.now() - 65_000,
      dropped: 0,
      diskBytes: 8192,
      diskFull: false,
      deadLetters: 2,
    });
    await waitForTestId(page, "outbox-queued", { text: "42" });
    assert.equal(await textOf(page, "outbox-deadletters"), "2", "dead letters shown (issue 12)");
    run.fake.bus.emit("eventLog", { ts: Date.now(), kind: "connection", text: "ThingsBoard lost" });
    await waitForTestId(page, "event-log", { text: "ThingsBoard lost" });
    run.fake.bus.emit("connection", {
      state: "connected",
      since: Date.now(),
      server: "127.0.0.1:1883",
      mqttVersion: 5,
      reconnects: 3,
    });
    await waitForTestId(page, "conn-state", { attr: ["data-state", "connected"] });
    assert.equal(await textOf(page, "conn-state"), "online");
    run.fake.update("env", {}, { health: "ok", error: undefined });
    assert.deepEqual(errors, []);
  });

  test("clicking a switch goes through the dispatcher and the page shows the new state", async () => {
    const { page } = await newPage();
    await logIn(page, run.base, ADMIN_PASSWORD);
    const before = run.fake.rpcCalls.length;
    await page.getByTestId("switch-relays-17").click();
    await waitForTestId(page, "switch-relays-17", { attr: ["aria-checked", "true"] });
    assert.deepEqual(run.fake.rpcCalls.slice(before), [
      { device: "relays", method: "setGpioStatus", params: { pin: 17, enabled: true }, source: "dashboard" },
    ]);
    await page.getByTestId("switch-relays-17").click();
    await waitForTestId(page, "switch-relays-17", { attr: ["aria-checked", "false"] });
    // A refused command is shown, and the switch stays where the device is.
    run.fake.rpcHandler = async () => ({
      ok: false,
      data: { error: "output is locked by safe state", code: "LOCKED" },
    });
    try {
      await page.getByTestId("switch-relays-22").click();
      await waitForTestId(page, "control-error", { text: "output is locked by safe state" });
      assert.equal(await page.getByTestId("switch-relays-22").getAttribute("aria-checked"), "true");
    } finally {
      run.fake.rpcHandler = (await import("../fakes/dashboardContext.ts")).createFakeDashboard().rpcHandler;
    }
  });

  test("the viewer sees everything but cannot switch", async () => {
    const { page } = await newPage();
    await logIn(page, run.base, VIEWER_PASSWORD);
    assert.equal(await page.getByTestId("switch-relays-17").isDisabled(), true);
    assert.equal(await page.getByTestId("scan-button").isVisible(), false);
    assert.equal(await textOf(page, "role"), "read-only");
  });

  test("phone viewport: no horizontal scroll at 375 px", async () => {
    const { page } = await newPage({ width: 375, height: 812 });
    await logIn(page, run.base, ADMIN_PASSWORD);
    const { scroll, client } = await page.evaluate(() => {
      const root = (globalThis as unknown as PageDom).document.documentElement;
      return { scroll: root.scrollWidth, client: root.clientWidth };
    });
    await screenshot(page, "dashboard-phone");
    assert.ok(scroll <= client, `page is ${scroll} px wide in a ${client} px viewport`);
  });

  test("logout returns to the login page and the session is gone", async () => {
    const { page } = await newPage();
    await logIn(page, run.base, ADMIN_PASSWORD);
    await page.getByTestId("logout").click();
    await page.getByTestId("view-login").waitFor({ timeout: 5000 });
    await page.reload();
    await page.getByTestId("view-login").waitFor({ timeout: 5000 });
    const status = await page.evaluate(async () => (await fetch("/api/snapshot")).status);
    assert.equal(status, 401);
  });
});

describe("first-run setup in Chromium", () => {
  let run: Running;
  let browser: Browser;
  const lines: string[] = [];
  before(async () => {
    const log = createLogger("info", (l) => lines.push(l));
    [run, browser] = await Promise.all([startDashboard({ dashboard: {}, log }), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await run?.close();
  });

  test("the console code and a new password unlock the dashboard", async () => {
    const code = /setup code with a new password: ([A-Z0-9]{5}-[A-Z0-9]{5})/.exec(lines.join("\n"))?.[1];
    assert.ok(code, "setup code printed in the log");
    const context = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const page = await context.newPage();
    await page.goto(run.base, { timeout: 10_000 });
    await page.getByTestId("view-setup").waitFor({ timeout: 5000 });
    await page.getByTestId("setup-code").fill("WRONG-CODE1");
    await page.getByTestId("setup-password").fill("a new password");
    await page.getByTestId("setup-confirm").fill("a new password");
    await page.getByTestId("setup-submit").click();
    await waitForTestId(page, "setup-error", { text: "wrong setup code" });
    await page.getByTestId("setup-code").fill(code);
    await page.getByTestId("setup-submit").click();
    await waitForTestId(page, "socket-state", { attr: ["data-state", "live"] });
    await page.getByTestId("device-relays").waitFor({ timeout: 5000 });
    assert.equal(await textOf(page, "role"), "admin");
    await context.close();
  });
});
