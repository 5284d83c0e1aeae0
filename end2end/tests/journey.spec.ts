// The first-login journey of the seed guide, driven in Chromium against the release
// server on a fresh SQLite database with the demo class. The "js" project runs it
// hydrated (live checklist, countdown, wait state); "no-js" runs it as plain HTML forms.
import { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import * as fs from "fs";

const TEMP = "2024Kmps";
const NEW_PASSWORD = "Blue-Whale-Swims9";
const SHOTS = "screenshots";

// Each project signs in as a different demo student, so the runs never collide.
const STUDENTS: Record<string, { login: string; name: string; part: string }> = {
  js: { login: "allen_tan@students.edu.sg", name: "Allen Tan", part: "allen" },
  "no-js": { login: "lim_wei_ling@students.edu.sg", name: "Lim Wei Ling", part: "ling" },
};

async function shot(page: Page, project: string, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${project}-${name}.png`, fullPage: true });
}

async function hydrated(page: Page, js: boolean) {
  if (js) {
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  }
}

test("a student completes the first-login journey of the seed guide", async ({ page }, info) => {
  const project = info.project.name;
  const js = project === "js";
  const student = STUDENTS[project];
  // Script errors, and server answers that no step of the journey should cause. The
  // deliberate failures (401 sign-in, 422 refusals) are expected answers, not errors.
  const consoleErrors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) {
      consoleErrors.push(msg.text());
    }
  });
  page.on("pageerror", (err) => consoleErrors.push(err.message));
  page.on("response", (res) => {
    if (res.status() === 404 || res.status() >= 500) {
      consoleErrors.push(`${res.status()} ${res.url()}`);
    }
  });

  // 1) MIMS Portal sign-in
  await page.goto("/");
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "MIMS Portal" })).toBeVisible();
  await expect(page.getByText("your MIMS login ID is <Full_Name>@students.edu.sg")).toBeVisible();
  await expect(page.getByRole("link", { name: "Forgot Password?" })).toBeVisible();
  await shot(page, project, "01-sign-in");

  // A wrong password gets the one generic message.
  await page.getByLabel("Username").fill(student.login);
  await page.getByLabel("Password", { exact: true }).fill("wrong-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(
    page.getByText(
      "Invalid username or password. After 5 unsuccessful attempts, an account is locked for 15 minutes.",
    ),
  ).toBeVisible();
  await shot(page, project, "01b-sign-in-failed");

  await page.getByLabel("Username").fill(student.login);
  await page.getByLabel("Password", { exact: true }).fill(TEMP);
  await page.getByRole("button", { name: "Sign in" }).click();

  // 2) + 3) Straight into MIMS Self Service Password Reset: Setup Security Questions
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await hydrated(page, js);
  await expect(page.getByText("MIMS Self Service Password Reset")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Setup Security Questions" })).toBeVisible();
  await expect(page.getByTestId("step-indicator").getByText("Step 3 of 9")).toBeVisible();
  await expect(page.getByLabel("Language")).toBeVisible();
  const idle = page.getByTestId("idle-timeout");
  if (js) {
    // Live countdown once hydrated.
    await expect(idle).toHaveText(/Idle Timeout: [34]:\d\d/);
    const first = await idle.textContent();
    await expect(idle).not.toHaveText(first ?? "");
  } else {
    await expect(idle).toHaveText("Idle Timeout: 4 minutes");
  }
  for (const n of [1, 2, 3]) {
    const options = await page.locator(`#question${n} option`).count();
    expect(options).toBeGreaterThanOrEqual(7); // a prompt + at least six questions
  }
  await shot(page, project, "03-setup-questions");

  // An answer that is the student's name is refused, next to its field.
  await page.locator("#question1").selectOption({ label: "What is your favourite food?" });
  await page.locator("#answer1").fill(student.name);
  await page.locator("#question2").selectOption({ label: "What is your favourite animal?" });
  await page.locator("#answer2").fill("Shark");
  await page.locator("#question3").selectOption({ label: "What is your favourite colour?" });
  await page.locator("#answer3").fill("Turquoise");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByText("The answer must not be your name or user name.")).toBeVisible();
  await shot(page, project, "03b-setup-refused");

  await page.locator("#question1").selectOption({ label: "What is your favourite food?" });
  await page.locator("#answer1").fill("Ramen");
  await page.locator("#question2").selectOption({ label: "What is your favourite animal?" });
  await page.locator("#answer2").fill("Shark");
  await page.locator("#question3").selectOption({ label: "What is your favourite colour?" });
  await page.locator("#answer3").fill("Turquoise");
  await page.getByRole("button", { name: "Next" }).click();

  // 4) Confirm Security Questions, with a way back to edit
  await expect(page).toHaveURL(/\/sspr\/confirm-questions$/);
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "Confirm Security Questions" })).toBeVisible();
  await expect(page.getByTestId("step-indicator").getByText("Step 4 of 9")).toBeVisible();
  const review = page.getByTestId("review");
  for (const text of [
    "What is your favourite food?",
    "Ramen",
    "What is your favourite animal?",
    "Shark",
    "What is your favourite colour?",
    "Turquoise",
  ]) {
    await expect(review.getByText(text, { exact: true })).toBeVisible();
  }
  await shot(page, project, "04-confirm-questions");
  await page.getByRole("link", { name: "Edit my answers" }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await expect(page.locator("#answer2")).toHaveValue("Shark");
  await page.locator("#answer2").fill("Whale Shark");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/\/sspr\/confirm-questions$/);
  await expect(review.getByText("Whale Shark", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: "Confirm Security Answers" }).click();

  // 5) Success
  await expect(page).toHaveURL(/\/sspr\/questions-saved$/);
  await expect(
    page.getByText("Thank you. Your secret questions and answers have been successfully saved."),
  ).toBeVisible();
  await shot(page, project, "05-questions-saved");
  await page.getByRole("link", { name: "Continue" }).click();

  // 6) Change Password, with the seed's rules
  await expect(page).toHaveURL(/\/sspr\/change-password$/);
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "Change Password" })).toBeVisible();
  await expect(page.getByTestId("step-indicator").getByText("Step 6 of 9")).toBeVisible();
  const rules = page.getByTestId("password-rules");
  for (const text of [
    "Password is case sensitive.",
    "Must be at least 12 characters long.",
    "The first character can not be a symbol (non letter or number).",
    "Must not include part of your name or user name.",
    "Must have at least three types of the following characters:",
    "Uppercase (A-Z)",
    "Lowercase (a-z)",
    "Number (0-9)",
    "Symbol (!, #, $, etc.)",
  ]) {
    await expect(rules).toContainText(text);
  }
  await expect(page.getByPlaceholder("Think of a new password")).toBeVisible();
  await expect(page.getByPlaceholder("Retype your new password")).toBeVisible();
  await shot(page, project, "06-change-password");

  const rule = (id: string) => rules.locator(`[data-rule="${id}"]`);
  const weak = `#${student.part}`;
  if (js) {
    // Live, rule by rule, while typing.
    const input = page.getByLabel("New Password", { exact: true });
    await input.pressSequentially(weak);
    await expect(rule("min_length")).toHaveAttribute("data-status", "unmet");
    await expect(rule("first_character")).toHaveAttribute("data-status", "unmet");
    await expect(rule("no_name_part")).toHaveAttribute("data-status", "unmet");
    await expect(page.getByTestId("name-part")).toContainText(`“${student.part}”`);
    await expect(rule("lowercase")).toHaveAttribute("data-status", "met");
    await expect(rule("uppercase")).toHaveAttribute("data-status", "unmet");
    await shot(page, project, "06b-live-checklist-unmet");
    await input.fill("");
    await input.pressSequentially(NEW_PASSWORD);
    for (const id of ["min_length", "first_character", "no_name_part", "character_types"]) {
      await expect(rule(id)).toHaveAttribute("data-status", "met");
    }
    await expect(page.getByTestId("name-part")).toHaveCount(0);
    await page.getByLabel("Confirm Password", { exact: true }).pressSequentially("Blue-Whale");
    await expect(page.getByTestId("confirm-status")).toHaveText("The passwords do not match.");
    await shot(page, project, "06c-live-checklist-met-mismatch");
    await page.getByLabel("Confirm Password", { exact: true }).fill(NEW_PASSWORD);
    await expect(page.getByTestId("confirm-status")).toHaveText("The passwords match.");
  } else {
    // Without JavaScript the server refuses with the same rule list.
    await page.getByLabel("New Password", { exact: true }).fill(weak);
    await page.getByLabel("Confirm Password", { exact: true }).fill(weak);
    await page.getByRole("button", { name: "Change Password" }).click();
    await expect(page).toHaveURL(/\/sspr\/change-password/);
    await expect(rule("min_length")).toHaveAttribute("data-status", "unmet");
    await expect(rule("first_character")).toHaveAttribute("data-status", "unmet");
    await expect(rule("no_name_part")).toHaveAttribute("data-status", "unmet");
    await expect(page.getByTestId("name-part")).toContainText(`“${student.part}”`);
    await shot(page, project, "06b-server-refused");
    await page.getByLabel("New Password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Confirm Password", { exact: true }).fill(NEW_PASSWORD);
  }

  // 7) "Please wait while the system change your password" while it runs. (The page is
  // sent to the server: what the overlay's observer saw is kept in the tab's storage.)
  if (js) {
    await page.evaluate(() => {
      sessionStorage.removeItem("sawWait");
      new MutationObserver(() => {
        const wait = document.querySelector('[data-testid="wait"]');
        if (wait) sessionStorage.setItem("sawWait", wait.textContent ?? "");
      }).observe(document.body, { childList: true, subtree: true });
    });
  }
  await page.getByRole("button", { name: "Change Password" }).click();

  // 8) Success
  await expect(page).toHaveURL(/\/sspr\/password-changed$/);
  await expect(page.getByTestId("step-indicator").getByText("Step 8 of 9")).toBeVisible();
  await expect(page.getByText("You have successfully changed your password.")).toBeVisible();
  if (js) {
    expect(await page.evaluate(() => sessionStorage.getItem("sawWait"))).toBe(
      "Please wait while the system change your password",
    );
  }
  await shot(page, project, "08-password-changed");
  await page.getByRole("link", { name: "Continue" }).click();

  // 9) Portal
  await expect(page).toHaveURL(/\/portal\?first=1$/);
  await hydrated(page, js);
  await expect(page.getByText(`Welcome, ${student.name}`)).toBeVisible();
  for (const [title, desc] of [
    ["Student ICON E-Mail", "For emails and access to Google Drive"],
    ["MIMS SSPR", "To change your current password, set up security questions"],
    ["Student Learning Space – SLS", "For assignments sent by teachers"],
  ]) {
    await expect(page.getByText(title, { exact: true })).toBeVisible();
    await expect(page.getByText(desc, { exact: true })).toBeVisible();
  }
  await shot(page, project, "09-portal");

  // The portal before sign-in, and the old step pages after onboarding, are refused.
  await page.goto("/sspr/setup-questions");
  await expect(page).toHaveURL(/\/portal$/);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "MIMS Portal" })).toBeVisible();
  await page.goto("/portal");
  await expect(page).toHaveURL(/\/$/);

  // The temporary password no longer signs in; the new one goes straight to the portal.
  await page.getByLabel("Username").fill(student.login);
  await page.getByLabel("Password", { exact: true }).fill(TEMP);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Invalid username or password.")).toBeVisible();
  await page.getByLabel("Username").fill(student.login);
  await page.getByLabel("Password", { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByText(`Welcome, ${student.name}`)).toBeVisible();

  expect(consoleErrors).toEqual([]);
});

test("pages typed out of order lead back to the current step", async ({ page }, info) => {
  await page.goto("/portal");
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/sspr/change-password");
  await expect(page).toHaveURL(/\/$/);
  const login = info.project.name === "js" ? "chloe_ng@students.edu.sg" : "priya_subramaniam@students.edu.sg";
  await page.getByLabel("Username").fill(login);
  await page.getByLabel("Password", { exact: true }).fill(TEMP);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  for (const path of ["/portal", "/sspr/change-password", "/sspr/confirm-questions", "/"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  }
});
