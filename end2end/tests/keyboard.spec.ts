// The whole first-login journey with the keyboard alone: Tab to move, typing, arrow
// keys in the question lists, Enter or Space to press. No mouse, no click().
import { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { TEMP, hydrated, tabTo, shot } from "./helpers";

const LOGIN = "ryan_goh@students.edu.sg";
const NEW_PASSWORD = "Quiet-Harbour-81";

async function focusedOutline(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el ? getComputedStyle(el).outlineStyle : "none";
  });
}

test("the first-login journey with the keyboard alone", async ({ page }, info) => {
  test.skip(info.project.name !== "js", "keyboard run of the hydrated page");
  await page.goto("/");
  await hydrated(page);

  // The skip link is the first stop and goes to the main content.
  await page.keyboard.press("Tab");
  await expect(page.locator(".skip-link")).toBeFocused();

  await tabTo(page, "#username");
  await page.keyboard.type(LOGIN);
  await tabTo(page, "#password");
  await page.keyboard.type(TEMP);
  // Every stop shows where the focus is.
  expect(await focusedOutline(page)).not.toBe("none");
  await page.keyboard.press("Enter");

  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await hydrated(page);
  for (const [n, answer] of [
    [1, "Mee goreng"],
    [2, "Sea turtle"],
    [3, "Badminton"],
  ] as const) {
    await tabTo(page, `#question${n}`);
    // Arrow keys move through a closed list in Chromium: the first real question.
    await page.keyboard.press("ArrowDown");
    await expect(page.locator(`#question${n}`)).not.toHaveValue("");
    await tabTo(page, `#answer${n}`);
    await page.keyboard.type(answer);
  }
  // The guide follows the form: the next stops are "Next", then the guide, which opens
  // and closes from the keyboard; Shift+Tab goes back to "Next".
  await tabTo(page, "#guide-summary");
  const details = page.getByTestId("guide").locator("details");
  await page.keyboard.press("Enter");
  await expect(details).toHaveAttribute("open", "");
  await page.keyboard.press("Enter");
  await expect(details).not.toHaveAttribute("open", "");
  await page.keyboard.press("Shift+Tab");
  await expect(page.locator(":focus")).toHaveText("Next");
  await page.keyboard.press("Enter");

  await expect(page).toHaveURL(/\/sspr\/confirm-questions$/);
  await hydrated(page);
  await tabTo(page, 'button[type="submit"].button');
  await expect(page.locator(":focus")).toHaveText("Confirm Security Answers");
  await page.keyboard.press("Enter");

  await expect(page).toHaveURL(/\/sspr\/questions-saved$/);
  await hydrated(page);
  await tabTo(page, "main a.button");
  await page.keyboard.press("Enter");

  await expect(page).toHaveURL(/\/sspr\/change-password$/);
  await hydrated(page);
  await tabTo(page, "#new_password");
  await page.keyboard.type(NEW_PASSWORD);
  // Show / Hide is the next stop, pressed with Space.
  await page.keyboard.press("Tab");
  await expect(page.locator(":focus")).toHaveAttribute("aria-controls", "new_password");
  await page.keyboard.press("Space");
  await expect(page.locator("#new_password")).toHaveAttribute("type", "text");
  await page.keyboard.press("Space");
  await expect(page.locator("#new_password")).toHaveAttribute("type", "password");
  await tabTo(page, "#confirm_password");
  await page.keyboard.type(NEW_PASSWORD);
  await expect(page.getByTestId("rules-summary")).toHaveText("Your new password meets every requirement.");
  await shot(page, "keyboard-06-change-password");
  await page.keyboard.press("Enter");

  await expect(page).toHaveURL(/\/sspr\/password-changed$/);
  await hydrated(page);
  await tabTo(page, "main a.button");
  await page.keyboard.press("Enter");

  await expect(page).toHaveURL(/\/portal\?first=1$/);
  await expect(page.getByRole("heading", { name: "Welcome, Ryan Goh" })).toBeVisible();
  // And out again: "Sign out" from the keyboard.
  await tabTo(page, ".sign-out button");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/$/);
});
