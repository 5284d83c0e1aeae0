// Self-service after onboarding, in Chromium with and without JavaScript: "Forgot
// Password?" with two of the three security questions, and the portal's "MIMS SSPR"
// tile (sign in again, change password, set up the questions again). Each test
// onboards its own demo student through the server functions first.
import { Page, APIRequestContext } from "@playwright/test";
import * as fs from "fs";
import { test, expect } from "./fixtures";

const TEMP = "2024Kmps";
const ONBOARDED = "Blue-Whale-Swims9";
const ANSWERS: Record<string, string> = {
  "What is your favourite food?": "Ramen",
  "What is your favourite animal?": "Shark",
  "What is your favourite colour?": "Turquoise",
};

const STUDENTS: Record<string, { forgot: string; sspr: string }> = {
  js: { forgot: "tan_jun_jie@students.edu.sg", sspr: "wong_mei_xin@students.edu.sg" },
  "no-js": { forgot: "siti_nurhaliza_osman@students.edu.sg", sspr: "arjun_kumar@students.edu.sg" },
};

async function shot(page: Page, project: string, name: string) {
  fs.mkdirSync("screenshots", { recursive: true });
  await page.screenshot({ path: `screenshots/${project}-${name}.png`, fullPage: true });
}

async function hydrated(page: Page, js: boolean) {
  if (js) await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

async function api(request: APIRequestContext, endpoint: string, form: Record<string, string>) {
  const response = await request.post(`/api/${endpoint}`, {
    form,
    headers: { accept: "application/json" },
  });
  expect(response.status(), `${endpoint}: ${await response.text()}`).toBe(200);
}

/** Takes `login` through the first-login journey (the browser test of it is journey.spec). */
async function onboard(page: Page, login: string) {
  const request = page.context().request;
  await api(request, "sign_in", { username: login, password: TEMP });
  await api(request, "setup_questions", {
    question1: "food",
    answer1: "Ramen",
    question2: "animal",
    answer2: "Shark",
    question3: "colour",
    answer3: "Turquoise",
  });
  await api(request, "confirm_questions", {});
  await api(request, "change_password", {
    new_password: ONBOARDED,
    confirm_password: ONBOARDED,
  });
}

async function signIn(page: Page, login: string, password: string) {
  await page.getByLabel("Username").fill(login);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a student resets a forgotten password with two security questions", async ({ page }, info) => {
  const project = info.project.name;
  const js = project === "js";
  const login = STUDENTS[project].forgot;
  await onboard(page, login);
  await page.context().clearCookies();

  await page.goto("/");
  await hydrated(page, js);
  await page.getByRole("link", { name: "Forgot Password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "Forgot Password?" })).toBeVisible();
  // The advice for a student still on the letter's temporary password is always there.
  await expect(page.getByText("Have you not signed in before?")).toBeVisible();
  await shot(page, project, "20-forgot-password");
  await page.getByLabel("User Name").fill(login);
  await page.getByRole("button", { name: "Next" }).click();

  await expect(page).toHaveURL(/\/forgot-password\/questions/);
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "Answer your security questions" })).toBeVisible();
  await expect(page.locator("input[name^=answer]")).toHaveCount(2);
  await shot(page, project, "21-forgot-questions");
  // Wrong answers: one message, never which.
  await page.locator("#answer1").fill("Wrong");
  await page.locator("#answer2").fill("Also wrong");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByText("The answers you entered do not match our records.")).toBeVisible();
  await hydrated(page, js);
  await shot(page, project, "21b-forgot-wrong-answers");
  // The questions asked now (chosen afresh), answered with extra spaces and capitals.
  for (const n of [1, 2]) {
    const question = (await page.locator(`label[for=answer${n}]`).innerText()).trim();
    expect(Object.keys(ANSWERS)).toContain(question);
    await page.locator(`#answer${n}`).fill(`  ${ANSWERS[question].toUpperCase()} `);
  }
  await page.getByRole("button", { name: "Next" }).click();

  await expect(page).toHaveURL(/\/forgot-password\/new-password$/);
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  const rules = page.getByTestId("password-rules");
  if (js) {
    // The live checklist, from the same rules the server runs.
    await page.getByLabel("New Password", { exact: true }).pressSequentially("Blue");
    await expect(rules.locator('[data-rule="min_length"]')).toHaveAttribute("data-status", "unmet");
  }
  // An earlier password is refused by the server.
  await page.getByLabel("New Password", { exact: true }).fill(ONBOARDED);
  await page.getByLabel("Confirm Password", { exact: true }).fill(ONBOARDED);
  await page.getByRole("button", { name: "Change Password" }).click();
  await expect(rules.locator('[data-rule="not_current"]')).toHaveAttribute("data-status", "unmet");
  // The page came back with the refusal (live again with JavaScript, the refusal in the
  // island's props): "New Password" has the focus and says it is invalid.
  await hydrated(page, js);
  const newPassword = page.getByLabel("New Password", { exact: true });
  await expect(newPassword).toBeFocused();
  await expect(newPassword).toHaveAttribute("aria-invalid", "true");
  await shot(page, project, "22-forgot-new-password-refused");
  await page.getByLabel("New Password", { exact: true }).fill("Green-Turtle-Dives7");
  await page.getByLabel("Confirm Password", { exact: true }).fill("Green-Turtle-Dives7");
  await page.getByRole("button", { name: "Change Password" }).click();

  await expect(page).toHaveURL(/\/forgot-password\/done$/);
  await expect(page.getByText("Your password has been reset. Sign in with your new password.")).toBeVisible();
  await shot(page, project, "23-forgot-done");
  await page.getByRole("link", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page, js);
  await signIn(page, login, "Green-Turtle-Dives7");
  await expect(page).toHaveURL(/\/portal\?reset=1$/);
  await expect(page.getByTestId("reset-notice")).toContainText("Your password was reset");
  await shot(page, project, "24-portal-after-reset");
});

test("a teacher's forgotten password is sent to the administrators, not to questions", async ({ page }, info) => {
  const project = info.project.name;
  const js = project === "js";
  await page.goto("/forgot-password");
  await hydrated(page, js);
  await page.getByLabel("User Name").fill("tan_mei_hua@schools.gov.sg");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/\/forgot-password(\?|$)/);
  await expect(page.getByText("Staff accounts are not reset with security questions.")).toBeVisible();
  await expect(page.locator("input[name^=answer]")).toHaveCount(0);
  await hydrated(page, js);
  await shot(page, project, "25-forgot-password-staff");
});

test("a student changes the password and sets up the questions again in the SSPR", async ({ page }, info) => {
  const project = info.project.name;
  const js = project === "js";
  const login = STUDENTS[project].sspr;
  await onboard(page, login);

  await page.goto("/portal");
  await hydrated(page, js);
  await page.getByRole("link", { name: /MIMS SSPR/ }).click();
  await expect(page).toHaveURL(/\/sspr$/);
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "MIMS SSPR" })).toBeVisible();
  await shot(page, project, "30-sspr-home");

  // Change Password: the current one first.
  await page.getByRole("link", { name: /Change Password/ }).click();
  await expect(page).toHaveURL(/\/sspr\/password$/);
  await hydrated(page, js);
  await page.getByLabel("Current Password", { exact: true }).fill("not-my-password");
  await page.getByLabel("New Password", { exact: true }).fill("Red-Kite-Soars-22");
  await page.getByLabel("Confirm Password", { exact: true }).fill("Red-Kite-Soars-22");
  await page.getByRole("button", { name: "Change Password" }).click();
  await expect(page.getByText("The password you typed is not correct.")).toBeVisible();
  await hydrated(page, js);
  await shot(page, project, "31-sspr-password-wrong-current");
  await page.getByLabel("Current Password", { exact: true }).fill(ONBOARDED);
  await page.getByLabel("New Password", { exact: true }).fill("Red-Kite-Soars-22");
  await page.getByLabel("Confirm Password", { exact: true }).fill("Red-Kite-Soars-22");
  await page.getByRole("button", { name: "Change Password" }).click();
  await expect(page).toHaveURL(/\/sspr\/password-changed\?from=sspr$/);
  await expect(page.getByTestId("step-indicator").getByText("Step 8 of 9")).toHaveCount(0);
  await expect(page.getByText("You have successfully changed your password.")).toBeVisible();
  await shot(page, project, "32-sspr-password-changed");
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/portal$/);

  // The SSPR's own "Please Sign in" (shown when the last sign-in is not recent).
  await page.goto("/sspr/sign-in?next=/sspr");
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "Please Sign in" })).toBeVisible();
  await expect(page.getByLabel("User Name")).toHaveValue(login);
  await expect(page.getByRole("link", { name: "Forgotten Password?" })).toBeVisible();
  await shot(page, project, "33-sspr-sign-in");
  await page.getByLabel("Password", { exact: true }).fill("Red-Kite-Soars-22");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sspr$/);
  await hydrated(page, js);

  // Cancel ends a redo on the server: the set-up screen is closed again afterwards.
  await page.getByRole("button", { name: /Set up security questions again/ }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await hydrated(page, js);
  await shot(page, project, "34a-sspr-setup-again-cancel");
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page).toHaveURL(/\/sspr$/);
  await page.goto("/sspr/setup-questions");
  await expect(page).toHaveURL(/\/portal$/);
  await page.goto("/sspr");
  await hydrated(page, js);

  // Set up security questions again: the onboarding screens, without the step count.
  await page.getByRole("button", { name: /Set up security questions again/ }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "Setup Security Questions" })).toBeVisible();
  await expect(page.getByTestId("step-indicator").getByText("Step 3 of 9")).toHaveCount(0);
  await page.locator("#question1").selectOption({ label: "What is your favourite fruit?" });
  await page.locator("#answer1").fill("Durian");
  await page.locator("#question2").selectOption({ label: "What is your favourite bird?" });
  await page.locator("#answer2").fill("Hornbill");
  await page.locator("#question3").selectOption({ label: "What is your favourite sport?" });
  await page.locator("#answer3").fill("Badminton");
  await shot(page, project, "34-sspr-setup-again");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/\/sspr\/confirm-questions$/);
  await hydrated(page, js);
  await page.getByRole("button", { name: "Confirm Security Answers" }).click();
  await expect(page).toHaveURL(/\/sspr\/questions-saved$/);
  await expect(page.getByText("Your secret questions and answers have been successfully saved.")).toBeVisible();
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/portal$/);
});

test("typing counts as activity without a request per keystroke", async ({ page }, info) => {
  test.skip(info.project.name !== "js", "the countdown needs JavaScript");
  test.setTimeout(90_000);
  const keepAlive: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/keep_alive")) keepAlive.push(r.url());
  });
  await page.goto("/");
  await hydrated(page, true);
  await signIn(page, "farah_abdullah@students.edu.sg", TEMP);
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await hydrated(page, true);
  const idle = page.getByTestId("idle-timeout");
  // Type a letter every 3 seconds for 36 seconds: a dozen keystrokes.
  let typed = 0;
  for (let i = 0; i < 12; i++) {
    await page.locator("#answer1").press("a");
    typed += 1;
    await page.waitForTimeout(3_000);
  }
  expect(typed).toBe(12);
  // One keep-alive after 30 s of activity, not one per keystroke; the countdown
  // started again from the server's answer.
  expect(keepAlive.length).toBe(1);
  await expect(idle).toHaveText(/Idle Timeout: 3:[45]\d|Idle Timeout: 4:00/);
  const text = (await idle.textContent()) ?? "";
  const [m, s] = text.replace("Idle Timeout: ", "").split(":").map(Number);
  expect(m * 60 + s).toBeGreaterThan(240 - 15);
});
