// What every form gets, with and without JavaScript: a refused form comes back with
// the error summary (or the field to mend) focused; with JavaScript what was typed is still there (never a
// password, never a forgot-password answer), nothing waits in the tab's storage after
// the page is back, and a double-click sends a form once.
import { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { TEMP, hydrated } from "./helpers";

// One demo student per project, on the journey's first step: two refused sign-ins
// (fewer than the five that lock), then the set-up screen.
const ACCOUNTS = {
  js: "goh_li_ting@students.edu.sg",
  "no-js": "rahul_menon@students.edu.sg",
} as const;

async function live(page: Page, js: boolean) {
  if (js) await hydrated(page);
}

const focusedTestId = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? document.activeElement?.tagName);
const storedKeys = (page: Page) => page.evaluate(() => Object.keys(sessionStorage));

test("a refused sign-in comes back focused on the error, with the login ID kept", async ({ page }, info) => {
  const js = info.project.name === "js";
  const login = ACCOUNTS[info.project.name as "js" | "no-js"];
  await page.goto("/");
  await live(page, js);
  await page.locator("#username").fill(login);
  await page.locator("#password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("error-summary")).toBeVisible();
  await live(page, js);
  // The error summary has the focus (HTML autofocus: with and without JavaScript).
  await expect.poll(() => focusedTestId(page)).toBe("error-summary");
  await expect(page.locator("#password")).toHaveValue("");
  if (js) {
    await expect(page.locator("#username")).toHaveValue(login);
    expect(await storedKeys(page)).toEqual([]);
    // Tab goes on from the error to the form.
    await page.keyboard.press("Tab");
    await expect(page.locator("#username")).toBeFocused();
  }
});

test("a double-click on Sign in sends the form once", async ({ page }, info) => {
  test.skip(info.project.name !== "js", "the browser sends a form as often as it is clicked without JavaScript");
  await page.goto("/");
  await hydrated(page);
  const posts: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().includes("/api/sign_in")) posts.push(r.url());
  });
  await page.locator("#username").fill(ACCOUNTS.js);
  await page.locator("#password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).dblclick();
  await expect(page.getByTestId("error-summary")).toBeVisible();
  await hydrated(page);
  expect(posts.length).toBe(1);
});

test("refused security answers come back with the questions and answers as typed", async ({ page }, info) => {
  const js = info.project.name === "js";
  const login = ACCOUNTS[info.project.name as "js" | "no-js"];
  await page.goto("/");
  await live(page, js);
  await page.locator("#username").fill(login);
  await page.locator("#password").fill(TEMP);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await live(page, js);
  await page.locator("#question1").selectOption({ label: "What is your favourite food?" });
  await page.locator("#answer1").fill("Laksa");
  await page.locator("#question2").selectOption({ label: "What is your favourite animal?" });
  await page.locator("#answer2").fill("Pangolin");
  await page.locator("#question3").selectOption({ label: "What is your favourite colour?" });
  await page.locator("#answer3").fill("abc");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.locator("#answer3-error")).toBeVisible();
  await live(page, js);
  // The answer to mend has the focus (HTML autofocus: with and without JavaScript).
  await expect(page.locator("#answer3")).toBeFocused();
  if (js) {
    await expect(page.locator("#question1")).toHaveValue("food");
    await expect(page.locator("#answer1")).toHaveValue("Laksa");
    await expect(page.locator("#question2")).toHaveValue("animal");
    await expect(page.locator("#answer2")).toHaveValue("Pangolin");
    await expect(page.locator("#answer3")).toHaveValue("abc");
    expect(await storedKeys(page)).toEqual([]);
    // Only the refused answer needs changing now.
    await page.locator("#answer3").fill("Turquoise");
    await page.getByRole("button", { name: "Next" }).click();
    await expect(page).toHaveURL(/\/sspr\/confirm-questions$/);
    await expect(page.getByTestId("review")).toContainText("Pangolin");
    expect(await storedKeys(page)).toEqual([]);
  } else {
    // Without JavaScript the browser sends the form and shows the answer again empty.
    await expect(page.locator("#answer1")).toHaveValue("");
  }
});
