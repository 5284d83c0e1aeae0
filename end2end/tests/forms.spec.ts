// What every form gets, with and without JavaScript: a refused form comes back with
// the error summary (or the field to mend) focused; with JavaScript what was typed is
// still there — never a password or a security answer, which never reach the tab's
// storage at all — nothing waits in storage once the page is back, and a double-click
// sends a form once.
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

/** Opens the sign-in page and sends `login` with `password`. */
async function signIn(page: Page, js: boolean, login: string, password: string) {
  await page.goto("/");
  await live(page, js);
  await page.locator("#username").fill(login);
  await page.locator("#password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const focusedTestId = (page: Page) =>
  page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? document.activeElement?.tagName);
const storedKeys = (page: Page) => page.evaluate(() => Object.keys(sessionStorage));

/** Records every value the page writes to sessionStorage, across page loads. */
async function recordStorageWrites(page: Page): Promise<string[]> {
  const writes: string[] = [];
  await page.exposeFunction("__storageWrite", (key: string, value: string) => writes.push(`${key}=${value}`));
  await page.addInitScript(() => {
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key: string, value: string) {
      (window as any).__storageWrite(key, value);
      return setItem.call(this, key, value);
    };
  });
  return writes;
}

test("a refused sign-in comes back focused on the error, with the login ID kept", async ({ page }, info) => {
  const js = info.project.name === "js";
  const login = ACCOUNTS[info.project.name as "js" | "no-js"];
  const writes = await recordStorageWrites(page);
  await signIn(page, js, login, "not-the-password");
  await expect(page.getByTestId("error-summary")).toBeVisible();
  await live(page, js);
  // The error summary has the focus (HTML autofocus: with and without JavaScript).
  await expect.poll(() => focusedTestId(page)).toBe("error-summary");
  await expect(page.locator("#password")).toHaveValue("");
  if (js) {
    await expect(page.locator("#username")).toHaveValue(login);
    // The login ID went through the tab's storage; the password never did.
    expect(writes.join("\n")).toContain(login);
    expect(writes.join("\n")).not.toContain("not-the-password");
    expect(await storedKeys(page)).toEqual([]);
    // Tab goes on from the error to the form.
    await page.keyboard.press("Tab");
    await expect(page.locator("#username")).toBeFocused();
  } else {
    expect(writes).toEqual([]);
  }
});

test("a double-click on Sign in sends the form once", async ({ page }, info) => {
  test.skip(info.project.name !== "js", "without JavaScript the browser sends a form as often as it is clicked");
  await page.goto("/");
  await hydrated(page);
  // Each answer is held back a second, so both clicks land on this page.
  const posts: string[] = [];
  await page.route("**/api/sign_in*", async (route) => {
    posts.push(route.request().url());
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await route.continue();
  });
  await page.locator("#username").fill(ACCOUNTS.js);
  await page.locator("#password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).dblclick();
  await expect(page.getByTestId("error-summary")).toBeVisible();
  await hydrated(page);
  expect(posts.length).toBe(1);
});

test("refused security answers come back with the questions chosen, the answers to type again", async ({ page }, info) => {
  const js = info.project.name === "js";
  const login = ACCOUNTS[info.project.name as "js" | "no-js"];
  const writes = await recordStorageWrites(page);
  await signIn(page, js, login, TEMP);
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
  // Answers are secrets: typed again, never kept in the browser.
  for (const n of [1, 2, 3]) await expect(page.locator(`#answer${n}`)).toHaveValue("");
  const written = writes.join("\n");
  for (const answer of ["Laksa", "Pangolin", "abc", TEMP]) expect(written).not.toContain(answer);
  if (js) {
    await expect(page.locator("#question1")).toHaveValue("food");
    await expect(page.locator("#question2")).toHaveValue("animal");
    await expect(page.locator("#question3")).toHaveValue("colour");
    expect(await storedKeys(page)).toEqual([]);
  } else {
    await expect(page.locator("#question1")).toHaveValue("");
  }
  await page.locator("#answer1").fill("Laksa");
  await page.locator("#answer2").fill("Pangolin");
  await page.locator("#answer3").fill("Turquoise");
  if (!js) {
    await page.locator("#question1").selectOption({ label: "What is your favourite food?" });
    await page.locator("#question2").selectOption({ label: "What is your favourite animal?" });
    await page.locator("#question3").selectOption({ label: "What is your favourite colour?" });
  }
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/\/sspr\/confirm-questions$/);
  await expect(page.getByTestId("review")).toContainText("Pangolin");
  await live(page, js);
  expect(await storedKeys(page)).toEqual([]);
});
