// The browser side of the defences: the Content-Security-Policy really blocks a script
// that is not the portal's own, and a locked account looks exactly like a wrong
// password on the sign-in page.
import { test as base, expect } from "@playwright/test";
import { test, recordCspViolations } from "./fixtures";

base("the page's CSP blocks an injected inline script", async ({ page }, info) => {
  base.skip(info.project.name !== "js", "needs JavaScript");
  const violations = await recordCspViolations(page);
  await page.goto("/");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  // What an XSS would do: add an inline script without the page's nonce.
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__injected = true;";
    document.body.appendChild(s);
  });
  await expect.poll(() => violations.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
  expect(violations.join("\n")).toContain("script-src");
});

test("a locked account gets the same message as a wrong password", async ({ page }, info) => {
  // Each project locks its own demo student.
  const login =
    info.project.name === "js" ? "nur_aisyah_rahman@students.edu.sg" : "muhammad_hafiz_ismail@students.edu.sg";
  const message =
    "Invalid username or password. After 5 unsuccessful attempts, an account is locked for 15 minutes.";
  const texts: string[] = [];
  for (const password of ["wrong-1", "wrong-2", "wrong-3", "wrong-4", "wrong-5", "2024Kmps"]) {
    await page.goto("/");
    if (info.project.name === "js") {
      await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    }
    await page.getByLabel("Username").fill(login);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByText(message)).toBeVisible();
    // The refusal is a new page load: compare pages that are equally live.
    if (info.project.name === "js") {
      await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    }
    texts.push(await page.locator("main").innerText());
  }
  // The sixth attempt used the right password: refused, and the page says exactly
  // what it said for the wrong ones.
  expect(new Set(texts).size).toBe(1);
  await page.screenshot({ path: `screenshots/${info.project.name}-locked.png`, fullPage: true });
});
