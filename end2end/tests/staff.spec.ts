// The staff tools in Chromium, with and without JavaScript: the demo teacher imports a
// 30-student class list (preview first), prints the parent letters, one student signs
// in with the letter's password and completes the journey, and the class view shows
// them done (with JavaScript it updates by itself, without a reload).
import { Page, Browser } from "@playwright/test";
import * as fs from "fs";
import { test, expect } from "./fixtures";

const TEACHER = "tan_mei_hua@schools.gov.sg";
const TEMP = "2024Kmps";
const TEACHER_PASSWORD = "Teach-Well-2027!";

async function hydrated(page: Page, js: boolean) {
  if (js) await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

async function post(page: Page, endpoint: string, form: Record<string, string>) {
  return page.context().request.post(`/api/${endpoint}`, { form, headers: { accept: "application/json" } });
}

/** Signs the teacher in, going through the first-login journey the first time. */
async function teacherSignIn(page: Page) {
  const first = await post(page, "sign_in", { username: TEACHER, password: TEMP });
  if (first.status() === 200) {
    for (const [endpoint, form] of [
      ["setup_questions", { question1: "food", answer1: "Laksa", question2: "animal", answer2: "Otter", question3: "colour", answer3: "Maroon" }],
      ["confirm_questions", {}],
      ["change_password", { new_password: TEACHER_PASSWORD, confirm_password: TEACHER_PASSWORD }],
    ] as const) {
      const r = await post(page, endpoint, form as Record<string, string>);
      expect(r.status(), `${endpoint}: ${await r.text()}`).toBe(200);
    }
  } else {
    const again = await post(page, "sign_in", { username: TEACHER, password: TEACHER_PASSWORD });
    expect(again.status()).toBe(200);
  }
}

async function studentCompletesJourney(browser: Browser, js: boolean, login: string, password: string) {
  const context = await browser.newContext({ javaScriptEnabled: js });
  const page = await context.newPage();
  await page.goto("/");
  await hydrated(page, js);
  await page.getByLabel("Username").fill(login);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  for (const [endpoint, form] of [
    ["setup_questions", { question1: "fruit", answer1: "Mango", question2: "bird", answer2: "Hornbill", question3: "sport", answer3: "Netball" }],
    ["confirm_questions", {}],
    ["change_password", { new_password: "Green-Turtle-Dives7", confirm_password: "Green-Turtle-Dives7" }],
  ] as const) {
    const r = await page.context().request.post(`/api/${endpoint}`, {
      form: form as Record<string, string>,
      headers: { accept: "application/json" },
    });
    expect(r.status(), `${endpoint}: ${await r.text()}`).toBe(200);
  }
  await page.goto("/portal");
  await expect(page.getByText("Welcome,")).toBeVisible();
  await context.close();
}

test("a teacher imports a class, prints the letters, and watches a student finish", async ({ page, browser }, info) => {
  test.setTimeout(120_000);
  const project = info.project.name;
  const js = project === "js";
  const klass = js ? "P6 Harmony" : "P6 Courage";
  const prefix = js ? "Harmony" : "Courage";
  const rows = Array.from({ length: 30 }, (_, i) => `Pupil ${prefix} ${String.fromCharCode(65 + (i % 26))}${i},${klass}`);
  const csv = ["full_name,class", ...rows].join("\n") + "\n";
  fs.mkdirSync("screenshots", { recursive: true });

  await teacherSignIn(page);
  await page.goto("/portal");
  await hydrated(page, js);
  await page.getByRole("link", { name: /Staff Tools/ }).click();
  await expect(page).toHaveURL(/\/staff$/);
  await hydrated(page, js);
  await expect(page.getByRole("heading", { name: "Demo Primary School" })).toBeVisible();
  await page.screenshot({ path: `screenshots/${project}-50-staff-home.png`, fullPage: true });

  await page.getByLabel("Class list (CSV)").setInputFiles({ name: "class.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page).toHaveURL(/\/staff\/import\?batch=\d+$/);
  await hydrated(page, js);
  await expect(page.getByTestId("preview-summary")).toHaveText("30 to create, 0 already there, 0 duplicate, 0 with errors.");
  await expect(page.getByTestId("preview").locator("tbody tr")).toHaveCount(30);
  await page.screenshot({ path: `screenshots/${project}-51-import-preview.png`, fullPage: true });
  await page.getByRole("button", { name: "Import 30 students" }).click();

  await expect(page).toHaveURL(/\/staff\/letters\?id=\d+$/);
  await hydrated(page, js);
  const letters = page.locator("article.letter");
  await expect(letters).toHaveCount(30);
  await expect(page.getByRole("heading", { name: "30 letters to print" })).toBeVisible();
  await page.screenshot({ path: `screenshots/${project}-52-letters.png` });
  // The print layout: no header or buttons, one letter per page.
  await page.emulateMedia({ media: "print" });
  await expect(page.getByRole("button", { name: "Print letters" })).toBeHidden();
  await page.screenshot({ path: `screenshots/${project}-53-letters-print.png` });
  await page.emulateMedia({ media: "screen" });
  const first = letters.first();
  const login = (await first.locator(".letter__login").innerText()).trim();
  const password = (await first.locator(".letter__password").innerText()).trim();
  expect(login).toMatch(/^pupil_[a-z]+_a0@students\.edu\.sg$/);
  expect(password).toMatch(/^[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}$/);

  // The class view, open while the student does the journey.
  await page.goto(`/staff/class?name=${encodeURIComponent(klass)}`);
  await hydrated(page, js);
  const row = page.locator(`tr[data-login="${login}"]`);
  await expect(row).toHaveAttribute("data-stage", "not_started");
  await expect(page.getByTestId("counts").locator('[data-stage="not_started"] .counts__n')).toHaveText("30");

  await studentCompletesJourney(browser, js, login, password);

  if (!js) await page.reload();
  // With JavaScript the view refreshes itself: no reload above.
  await expect(row).toHaveAttribute("data-stage", "done", { timeout: 15_000 });
  await expect(page.getByTestId("counts").locator('[data-stage="done"] .counts__n')).toHaveText("1");
  await page.screenshot({ path: `screenshots/${project}-54-class-progress.png`, fullPage: true });

  // The student's page: history, and the actions that help.
  await row.getByRole("link").click();
  await expect(page).toHaveURL(/\/staff\/student\?id=\d+$/);
  await hydrated(page, js);
  await expect(page.getByTestId("stage")).toHaveText("Done");
  await expect(page.getByTestId("history")).toContainText("account_created");
  await page.screenshot({ path: `screenshots/${project}-55-student.png`, fullPage: true });
});
