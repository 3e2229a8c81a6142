// Real headless Chromium (the system one, never a downloaded browser) for the dashboard tests.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts");

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 20_000,
  });
}

/** Collects console errors and page errors (a CSP violation shows up here). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** The slice of the DOM the in-page probes use (the test tsconfig has no DOM lib). */
export interface PageDom {
  document: {
    querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null;
    documentElement: { scrollWidth: number; clientWidth: number };
  };
}

export interface Expect {
  /** Text content contains this. */
  text?: string;
  /** Attribute equals this value. */
  attr?: [name: string, value: string];
  /** Text content differs from this. */
  textNot?: string;
  /** Attribute differs from this value. */
  attrNot?: [name: string, value: string];
}

/** Waits (bounded) until the element with this test id matches; no eval in the page (the CSP forbids it). */
export async function waitForTestId(page: Page, id: string, want: Expect, ms = 5000): Promise<void> {
  try {
    await page.waitForFunction(
      ({ tid, text, attr, textNot, attrNot }) => {
        const el = (globalThis as unknown as PageDom).document.querySelector(`[data-testid="${tid}"]`);
        if (!el) return false;
        if (text !== undefined && !(el.textContent ?? "").includes(text)) return false;
        if (attr && el.getAttribute(attr[0]) !== attr[1]) return false;
        if (textNot !== undefined && el.textContent === textNot) return false;
        if (attrNot && el.getAttribute(attrNot[0]) === attrNot[1]) return false;
        return true;
      },
      { tid: id, text: want.text, attr: want.attr, textNot: want.textNot, attrNot: want.attrNot },
      { timeout: ms, polling: 50 },
    );
  } catch (err) {
    const now = await page
      .getByTestId(id)
      .evaluate((el) => el.outerHTML.slice(0, 300))
      .catch(() => "(missing)");
    throw new Error(`${id} did not reach ${JSON.stringify(want)} within ${ms} ms; it is ${now}`, { cause: err });
  }
}

export async function textOf(page: Page, id: string): Promise<string> {
  return (await page.getByTestId(id).textContent({ timeout: 5000 })) ?? "";
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
