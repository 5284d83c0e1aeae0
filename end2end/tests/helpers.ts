// Shared by the language, keyboard and practice specs: the translations (read from the
// app's own locale files, so a test checks the screens against what the product
// ships), axe-core checks, screenshots and keyboard-only moves.
import { Page, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import * as fs from "fs";
import * as path from "path";

export const LOCALES = ["en", "zh", "ms", "ta"] as const;
export type Loc = (typeof LOCALES)[number];
export const TEMP = "2024Kmps";
export const SHOTS = "screenshots";

const localeDir = path.join(__dirname, "..", "..", "app", "locales");
export const T: Record<Loc, any> = Object.fromEntries(
  LOCALES.map((l) => [l, JSON.parse(fs.readFileSync(path.join(localeDir, `${l}.json`), "utf8"))]),
) as Record<Loc, any>;

/** A translation with its `{{ name }}` placeholders filled. */
export function fill(text: string, values: Record<string, string | number> = {}): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name) => String(values[name]));
}

export async function shot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** No WCAG 2.2 A/AA violation that axe-core can find on the page as it is now. */
export async function expectAccessible(page: Page, where: string) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
    .analyze();
  const found = results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} — ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(" "))
        .join(" | ")}`,
  );
  expect(found, `axe-core violations on ${where}`).toEqual([]);
  // Nothing may be cut off or need sideways scrolling.
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, `horizontal overflow on ${where}`).toBeLessThanOrEqual(0);
}

export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Presses Tab (at most 60 times) until the focused element matches `selector`. */
export async function tabTo(page: Page, selector: string) {
  for (let i = 0; i < 60; i++) {
    if (await page.evaluate((s) => !!document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}
