// The idle timeout in the browser, on a second server whose timeout is 65 seconds
// instead of 4 minutes: the countdown, the "you will be signed out" dialog with a
// minute left (an alert dialog, focus on "Stay signed in"), staying signed in (the
// server really extends the session), and the sign-in page saying the session has
// timed out when nobody answers.
import { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { SHORT_IDLE_TIMEOUT_SECS, SHORT_TIMEOUT_PORT } from "../playwright.config";
import * as fs from "fs";

test.use({ baseURL: `http://127.0.0.1:${SHORT_TIMEOUT_PORT}` });

async function signIn(page: Page, login: string) {
  await page.goto("/");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Username").fill(login);
  await page.getByLabel("Password", { exact: true }).fill("2024Kmps");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  return Date.now();
}

test("stay signed in keeps the session alive on the server", async ({ page }, info) => {
  test.skip(info.project.name !== "js", "the countdown and the dialog need JavaScript");
  test.setTimeout((SHORT_IDLE_TIMEOUT_SECS + 45) * 1000);
  fs.mkdirSync("screenshots", { recursive: true });
  const loaded = await signIn(page, "allen_tan@students.edu.sg");
  await expect(page.getByTestId("idle-timeout")).toHaveText(/Idle Timeout: 1:0\d/);

  // With a minute left the dialog opens, and focus moves to "Stay signed in".
  const dialog = page.getByRole("alertdialog", { name: "You will be signed out soon" });
  await expect(dialog).toBeVisible({ timeout: 20_000 });
  const stay = dialog.getByRole("button", { name: "Stay signed in" });
  await expect(stay).toBeFocused();
  await expect(dialog).toContainText(/signed out in [01]:\d\d/);
  await page.screenshot({ path: "screenshots/js-40-timeout-warning.png", fullPage: true });
  await page.keyboard.press("Enter");
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("idle-timeout")).toHaveText(/Idle Timeout: 1:0\d/);

  // Past the moment the first page load's session would have ended: still alive.
  const wait = loaded + (SHORT_IDLE_TIMEOUT_SECS + 2) * 1000 - Date.now();
  await page.waitForTimeout(Math.max(wait, 0));
  const status = await page.evaluate(async () => {
    const r = await fetch("/api/journey", { method: "POST", headers: { accept: "application/json" } });
    return r.status;
  });
  expect(status).toBe(200);
});

test("a session left alone ends, and the sign-in page says so", async ({ page }, info) => {
  test.skip(info.project.name !== "js", "the countdown and the dialog need JavaScript");
  test.setTimeout((SHORT_IDLE_TIMEOUT_SECS + 45) * 1000);
  const loaded = await signIn(page, "nur_aisyah_rahman@students.edu.sg");
  await expect(page.getByRole("alertdialog")).toBeVisible({ timeout: 20_000 });
  await expect(page).toHaveURL(/\/\?timeout=1$/, { timeout: (SHORT_IDLE_TIMEOUT_SECS + 10) * 1000 });
  expect(Date.now() - loaded).toBeGreaterThan((SHORT_IDLE_TIMEOUT_SECS - 5) * 1000);
  await expect(page.getByText("Your session has timed out. Please sign in again.")).toBeVisible();
  await page.screenshot({ path: "screenshots/js-41-timed-out.png", fullPage: true });
  // The server ended it too: the set-up page now leads to the sign-in page.
  await page.goto("/sspr/setup-questions");
  await expect(page).toHaveURL(/\/(\?timeout=1)?$/);
});
