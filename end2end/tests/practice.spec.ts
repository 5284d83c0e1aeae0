// Practice mode (the browser tests' server runs `server --demo`): the banner on every
// page, the practice accounts on the sign-in page, the presenter view, and "Reset this
// practice account" so a teacher can run the same journey again and again.
import { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { T, TEMP, expectAccessible, shot } from "./helpers";

const NEW_PASSWORD = "Green-Lantern-Glows5";

async function onboard(page: Page, login: string) {
  await page.goto("/");
  await page.locator("#username").fill(login);
  await page.locator("#password").fill(TEMP);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await page.locator("#question1").selectOption({ label: T.en.questions.fruit });
  await page.locator("#answer1").fill("Mangosteen");
  await page.locator("#question2").selectOption({ label: T.en.questions.bird });
  await page.locator("#answer2").fill("Hornbill");
  await page.locator("#question3").selectOption({ label: T.en.questions.hobby });
  await page.locator("#answer3").fill("Origami");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("button", { name: "Confirm Security Answers" }).click();
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/sspr\/change-password$/);
  await page.locator("#new_password").fill(NEW_PASSWORD);
  await page.locator("#confirm_password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change Password" }).click();
  await expect(page).toHaveURL(/\/sspr\/password-changed$/);
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/portal/);
}

test("a teacher runs the journey, resets the practice account and runs it again", async ({ page }, info) => {
  const login = info.project.name === "js" ? "aaron_chua@students.edu.sg" : "hui_min_teo@students.edu.sg";
  await page.goto("/");
  await expect(page.getByTestId("practice-banner")).toHaveText(/Practice environment — not your school's real portal/);
  await expect(page.getByTestId("practice-accounts")).toContainText(login);
  await expect(page.getByTestId("practice-accounts")).toContainText(TEMP);

  for (const round of [1, 2]) {
    await onboard(page, login);
    await expect(page.getByTestId("practice-banner")).toBeVisible();
    await shot(page, `practice-${info.project.name}-portal-round${round}`);
    await page.getByRole("button", { name: "Reset this practice account" }).click();
    await expect(page).toHaveURL(/\/\?practice_reset=1$/);
    await expect(page.getByText(T.en.practice.reset_done)).toBeVisible();
    // Signed out: the portal is no longer reachable with the old cookie.
    await page.goto("/portal");
    await expect(page).toHaveURL(/\/(\?timeout=1)?$/);
  }
  // Back at the start: the letter's password leads to step 3 again; the new password
  // of the last round no longer works.
  await page.goto("/");
  await page.locator("#username").fill(login);
  await page.locator("#password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText(/Invalid username or password/)).toBeVisible();
  await page.locator("#username").fill(login);
  await page.locator("#password").fill(TEMP);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
});

test("the presenter view enlarges the text and keeps the guide open beside the screen", async ({ page }, info) => {
  const js = info.project.name === "js";
  await page.goto("/");
  await page.setViewportSize({ width: 1600, height: 900 });
  const rootSize = () => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  const normal = await rootSize();
  await expect(page.getByTestId("guide").locator("details")).not.toHaveAttribute("open", "");
  await page.getByRole("button", { name: "Presenter view" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("practice-banner")).toHaveAttribute("data-presenter", "on");
  expect(await rootSize()).toBeGreaterThanOrEqual(normal * 1.3);
  await expect(page.getByTestId("guide").locator("details")).toHaveAttribute("open", "");
  // Beside the screen: the guide's left edge is right of the sign-in card's right edge.
  const card = await page.locator("main").boundingBox();
  const guide = await page.getByTestId("guide").boundingBox();
  expect(guide!.x).toBeGreaterThanOrEqual(card!.x + card!.width);
  if (js) await expectAccessible(page, "presenter view");
  await shot(page, `practice-${info.project.name}-presenter`);
  await page.getByRole("button", { name: "Leave presenter view" }).click();
  await expect(page.getByTestId("practice-banner")).not.toHaveAttribute("data-presenter", "on");
  expect(await rootSize()).toBe(normal);
});
