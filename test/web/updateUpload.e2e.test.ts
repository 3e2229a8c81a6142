// "Update from file" in real headless Chromium: the page over the fake context with a real
// OtaUpdater behind POST /api/update/upload. An admin uploads a real package and sees the
// progress, then "restarting to apply"; a refused package shows the server's reason; a viewer
// has no upload control.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { UploadSlot, UploadRefusal } from "../../server/features/ota/uploadSlot.ts";
import { testUpdater, type TestUpdater } from "../fakes/otaLink.ts";
import { buildPackage } from "../fakes/otaPackage.ts";
import { until } from "../fakes/waitFor.ts";
import { ADMIN_PASSWORD, startDashboard, VIEWER_PASSWORD, type Running } from "../server/http/harness.ts";
import { launchBrowser, screenshot, textOf, waitForTestId, watchErrors } from "./browser.ts";
import { tempDir } from "../fakes/tempDir.ts";

async function logIn(page: Page, base: string, password: string): Promise<void> {
  await page.goto(base, { timeout: 10_000 });
  await page.getByTestId("login-password").fill(password, { timeout: 5000 });
  await page.getByTestId("login-submit").click({ timeout: 5000 });
  await waitForTestId(page, "socket-state", { attr: ["data-state", "live"] });
}

describe("dashboard: update from file (Chromium)", () => {
  let run: Running | undefined;
  let unit: TestUpdater;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const dir = tempDir("tbgw-upload-e2e-");
  /** Held by the test: the server waits here once the whole file is in, before the checks. */
  let checking: { reached: () => void; release: Promise<void> } | undefined;

  const newPage = async (): Promise<{ page: Page; errors: string[] }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    return { page, errors: watchErrors(page) };
  };
  const packageFile = (name: string, data: Buffer): string => {
    const file = join(dir, name);
    writeFileSync(file, data);
    return file;
  };

  before(async () => {
    const dataDir = join(dir, "data");
    unit = testUpdater(dataDir, {
      // The dashboard shows the updater's status as the controller's snapshot would.
      onStatus: (s) => {
        if (!run) return;
        run.fake.state.update = s;
        run.fake.bus.emit("devicesChanged");
      },
    });
    const gated = {
      reserveUpload: async (size: number, by: string): Promise<UploadSlot | UploadRefusal> => {
        const slot = await unit.updater.reserveUpload(size, by);
        if ("status" in slot) return slot;
        return {
          file: slot.file,
          progress: (n) => slot.progress(n),
          fail: (e) => slot.fail(e),
          complete: async (o) => {
            if (checking) {
              checking.reached();
              await checking.release;
            }
            return slot.complete(o);
          },
        };
      },
    };
    [run, browser] = await Promise.all([
      startDashboard(
        { dataDir, dashboard: { password: ADMIN_PASSWORD, viewerPassword: VIEWER_PASSWORD }, otaUpload: gated },
        { loginAttemptsPerMinute: 1000 },
      ),
      launchBrowser(),
    ]);
    run.fake.state.update = unit.updater.status();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await run?.close();
  });

  test("a viewer has no upload control", async () => {
    const { page, errors } = await newPage();
    await logIn(page, run!.base, VIEWER_PASSWORD);
    assert.equal(await page.getByTestId("update-upload-form").isVisible(), false);
    assert.equal(await page.getByTestId("update-upload").isDisabled(), true);
    assert.equal(await textOf(page, "app-update"), "none");
    assert.deepEqual(errors, []);
  });

  test("an admin: a refused package shows the reason; a good one shows progress, then restarting to apply", async () => {
    const { page, errors } = await newPage();
    await logIn(page, run!.base, ADMIN_PASSWORD);
    const form = page.getByTestId("update-upload-form");
    assert.equal(await form.isVisible(), true);

    const other = process.arch === "arm64" ? "x64" : "arm64";
    await page
      .getByTestId("update-file")
      .setInputFiles(packageFile("other-cpu.tar.gz", buildPackage({ version: "2.0.0", arch: other })));
    await page.getByTestId("update-upload").click();
    await waitForTestId(page, "update-upload-error", {
      text: `Not updated: the package is built for ${other}; this unit is ${process.arch}`,
    });
    await waitForTestId(page, "app-update-last", { text: "failed: the package is built for" });
    assert.equal(await page.getByTestId("update-upload").isDisabled(), false);

    let reached = (): void => undefined;
    let release = (): void => undefined;
    const atChecks = new Promise<void>((r) => (reached = r));
    checking = { reached, release: new Promise<void>((r) => (release = r)) };
    const pkg = buildPackage({ version: "2.0.0" }, {}, 3 * 1048576);
    await page.getByTestId("update-file").setInputFiles(packageFile("good.tar.gz", pkg));
    await page.getByTestId("update-upload").click();
    await atChecks;
    // The whole file is in and the server holds it before the checks: the bar is full.
    await waitForTestId(page, "update-progress", { attr: ["data-percent", "100"] });
    await waitForTestId(page, "update-upload-status", { text: "Uploaded; checking the package" });
    await waitForTestId(page, "app-update", { text: "uploaded package: receiving 100 %" });
    assert.equal(await page.getByTestId("update-upload").isDisabled(), true);
    release();
    await waitForTestId(page, "update-upload-status", { text: "Restarting to apply 2.0.0 (SHA-256 " });
    await waitForTestId(page, "app-update", { text: "2.0.0: restarting to apply" });
    await until(() => unit.restarts() === 1, "the restart request");
    await screenshot(page, "update-upload-restarting");
    // The new release is up (as its snapshot would say): the form says so and takes the next file.
    run!.fake.state.update = { running: { title: "rpi-tb-gateway", version: "2.0.0" }, trial: true };
    run!.fake.bus.emit("devicesChanged");
    await waitForTestId(page, "update-upload-status", { text: "Restarted: 2.0.0 runs now (on trial)." });
    assert.equal(await page.getByTestId("update-upload").isDisabled(), false);
    // Updates off (gateway.ota.enabled: false): no upload form.
    run!.fake.state.update = null;
    run!.fake.bus.emit("devicesChanged");
    await waitForTestId(page, "app-update", { text: "off (gateway.ota.enabled)" });
    assert.equal(await page.getByTestId("update-upload-form").isVisible(), false);
    assert.equal(await page.getByTestId("update-upload-error").textContent(), "");
    // Chromium logs the refused package's 422 itself; nothing else went wrong in the page.
    assert.deepEqual(errors, [
      "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)",
    ]);
  });
});
