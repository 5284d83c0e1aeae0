// Every test runs with the portal's Content-Security-Policy on (the real server sends
// it) and fails if the browser reports any violation: a blocked script, style or
// connection is a broken page even when the test's own checks pass.
import { test as base, expect, Page } from "@playwright/test";
import { expectAccessible } from "./helpers";

export const CSP_HINT = /Content[ -]Security[ -]Policy/i;

/** Starts recording CSP violations on `page`: console reports and, with JavaScript on,
 * the `securitypolicyviolation` events themselves. */
export async function recordCspViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (msg) => {
    if (CSP_HINT.test(msg.text())) violations.push(`console: ${msg.text()}`);
  });
  await page.exposeFunction("__reportCspViolation", (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as any).__reportCspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });
  return violations;
}

export const test = base.extend<{ cspViolations: string[]; axeAtEnd: void }>({
  // Whatever screen a test (with JavaScript) ends on — staff tools, SSPR, forgot
  // password, errors — gets the same axe-core WCAG 2.2 AA check as the journey.
  axeAtEnd: [
    async ({ page }, use, info) => {
      await use();
      if (info.project.name !== "js" || info.status !== info.expectedStatus) return;
      if (page.isClosed() || !page.url().startsWith("http")) return;
      await expectAccessible(page, `the last screen of "${info.title}" (${page.url()})`);
    },
    { auto: true },
  ],
  cspViolations: [
    async ({ page }, use) => {
      const violations = await recordCspViolations(page);
      await use(violations);
      expect(violations, "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
