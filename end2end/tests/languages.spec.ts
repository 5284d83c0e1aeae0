// The first-login journey in each of the four languages, with axe-core on every
// screen; the language chosen in the header, kept in a cookie, defaulted from
// Accept-Language, rendered by the server, switched mid-journey without losing the
// step; answers set in one language checked in another; phone width and 200% zoom.
import { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { LOCALES, Loc, T, TEMP, fill, shot, expectAccessible, hydrated } from "./helpers";

const NEW_PASSWORD = "Blue-Whale-Swims9";

const STUDENTS: Record<Loc, { login: string; name: string; namePart: string }> = {
  en: { login: "ethan_lee@students.edu.sg", name: "Ethan Lee", namePart: "Ethan" },
  zh: { login: "zhang_xin_yi@students.edu.sg", name: "Zhang Xin Yi", namePart: "Zhang" },
  ms: { login: "nadia_yusof@students.edu.sg", name: "Nadia binte Yusof", namePart: "Nadia" },
  ta: { login: "kavya_rajan@students.edu.sg", name: "Kavya d/o Rajan", namePart: "Kavya" },
};

// Answers a child might give, in the language of the screen.
const ANSWERS: Record<Loc, [string, string, string]> = {
  en: ["Chicken rice", "Otter", "Turquoise"],
  zh: ["榴莲冰淇淋", "大熊猫", "天蓝色"],
  ms: ["Nasi lemak", "Kucing oren", "Hijau muda"],
  ta: ["தோசை", "யானை", "நீலம்"],
};

/** Checks the screen is in `loc`: `<html lang>`, the heading, the step and its guide. */
async function onScreen(page: Page, loc: Loc, heading: string, step: number | null, name: string) {
  await expect(page.locator("html")).toHaveAttribute("lang", loc);
  await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
  if (step !== null) {
    await expect(page.getByTestId("step-indicator")).toHaveText(fill(T[loc].header.step_of, { n: step }));
    const guide = page.getByTestId("guide");
    await expect(guide.locator("summary")).toContainText(T[loc].guide.toggle);
    // Collapsible: open it, read what this step asks, close it again.
    await guide.locator("summary").click();
    await expect(guide.getByText(T[loc].guide[`s${step}`].asks)).toBeVisible();
    await expect(guide.getByText(T[loc].guide.mistakes)).toBeVisible();
  }
  if (T[loc].practice) {
    await expect(page.getByTestId("practice-banner")).toContainText(T[loc].practice.banner);
  }
  await expectAccessible(page, `${loc} ${name}`);
  await shot(page, `lang-${loc}-${name}`);
  if (step !== null) await page.getByTestId("guide").locator("summary").click();
}

async function chooseLanguage(page: Page, loc: Loc) {
  await page.locator("#language").selectOption(loc);
  await page.locator(".language-select button[type=submit]").click();
  await expect(page.locator("html")).toHaveAttribute("lang", loc);
  await hydrated(page);
}

for (const loc of LOCALES) {
  test(`the first-login journey in ${T[loc].language_name} (${loc}), with axe on every screen`, async ({ page }, info) => {
    test.skip(info.project.name !== "js", "the hydrated journey; no-js is covered in English");
    const t = T[loc];
    const student = STUDENTS[loc];
    await page.goto("/");
    await hydrated(page);
    // Chosen with the header's language selector (English is the default here).
    if (loc !== "en") await chooseLanguage(page, loc);
    await onScreen(page, loc, t.portal_title, 1, "01-sign-in");

    // A wrong password typed with Show on: sending the form hides it again (GOV.UK).
    await page.locator("#username").fill(student.login);
    await page.locator("#password").fill("not-the-password");
    await page.getByRole("button", { name: t.password_input.show_label }).click();
    await expect(page.locator("#password")).toHaveAttribute("type", "text");
    await page.getByRole("button", { name: t.sign_in.submit, exact: true }).click();
    await expect(page.getByTestId("error-summary")).toContainText(
      fill(t.sign_in.invalid, { attempts: 5, minutes: 15 }),
    );
    await expect(page.locator("#password")).toHaveAttribute("type", "password");
    await expectAccessible(page, `${loc} sign-in error`);

    await page.locator("#username").fill(student.login);
    await page.locator("#password").fill(TEMP);
    await page.getByRole("button", { name: t.sign_in.submit, exact: true }).click();

    // 3) Setup Security Questions, in this language; the question texts too.
    await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
    await hydrated(page);
    await onScreen(page, loc, t.setup.heading, 3, "03-setup");
    await page.locator("#question1").selectOption({ label: t.questions.food });
    await page.locator("#answer1").fill(ANSWERS[loc][0]);
    await page.locator("#question2").selectOption({ label: t.questions.animal });
    await page.locator("#answer2").fill(ANSWERS[loc][1]);
    await page.locator("#question3").selectOption({ label: t.questions.colour });
    await page.locator("#answer3").fill(ANSWERS[loc][2]);
    // A refused answer: the message is in this language and linked to its field.
    await page.locator("#answer3").fill("abc");
    await page.getByRole("button", { name: t.setup.submit, exact: true }).click();
    await expect(page.locator("#answer3-error")).toHaveText(t.setup.problems.trivial);
    await expect(page.locator("#answer3")).toHaveAttribute("aria-describedby", "answer3-error");
    await expect(page.locator("#answer3")).toHaveAttribute("aria-invalid", "true");
    await expectAccessible(page, `${loc} setup with an error`);
    await shot(page, `lang-${loc}-03b-setup-error`);
    // The questions chosen are still there; answers are secrets, typed again.
    await expect(page.locator("#question2")).toHaveValue("animal");
    await page.locator("#answer1").fill(ANSWERS[loc][0]);
    await page.locator("#answer2").fill(ANSWERS[loc][1]);
    await page.locator("#answer3").fill(ANSWERS[loc][2]);
    await page.getByRole("button", { name: t.setup.submit, exact: true }).click();

    // 4) Confirm
    await expect(page).toHaveURL(/\/sspr\/confirm-questions$/);
    await onScreen(page, loc, t.confirm.heading, 4, "04-confirm");
    await expect(page.getByTestId("review")).toContainText(t.questions.animal);
    await expect(page.getByTestId("review")).toContainText(ANSWERS[loc][1]);
    await page.getByRole("button", { name: t.confirm.submit, exact: true }).click();

    // 5) Saved
    await expect(page).toHaveURL(/\/sspr\/questions-saved$/);
    await onScreen(page, loc, t.saved.heading, 5, "05-saved");
    await page.getByRole("link", { name: t.saved.continue_button, exact: true }).click();

    // 6) Change Password: the live checklist speaks this language.
    await expect(page).toHaveURL(/\/sspr\/change-password$/);
    await hydrated(page);
    const newPassword = page.locator("#new_password");
    await newPassword.fill(`${student.namePart}-Rocks-2024`);
    const nameRule = page.locator('[data-rule="no_name_part"]');
    await expect(nameRule).toHaveAttribute("data-status", "unmet");
    await expect(nameRule).toContainText(t.rules.no_name_part);
    await expect(page.getByTestId("rules-summary")).toHaveText(fill(t.change.summary_missing, { count: 1 }));
    await onScreen(page, loc, t.change.heading, 6, "06-change-password");
    await newPassword.fill(NEW_PASSWORD);
    await page.locator("#confirm_password").fill(NEW_PASSWORD);
    await expect(page.getByTestId("rules-summary")).toHaveText(t.change.summary_ok);
    await expect(page.getByTestId("confirm-status")).toHaveText(t.change.matches);
    // Show / Hide: the password can be checked by eye, and hidden again.
    const show = page.getByRole("button", { name: t.password_input.show_label }).first();
    await show.click();
    await expect(newPassword).toHaveAttribute("type", "text");
    await page.getByRole("button", { name: t.password_input.hide_label }).first().click();
    await expect(newPassword).toHaveAttribute("type", "password");
    await page.getByRole("button", { name: t.change.submit, exact: true }).click();

    // 8) Password changed
    await expect(page).toHaveURL(/\/sspr\/password-changed$/);
    await onScreen(page, loc, t.changed.heading, 8, "08-changed");
    await page.getByRole("link", { name: t.changed.continue_button, exact: true }).click();

    // 9) The portal
    await expect(page).toHaveURL(/\/portal\?first=1$/);
    await onScreen(page, loc, fill(t.portal.welcome, { name: student.name }), 9, "09-portal");
  });
}

test("answers set in Chinese are checked in English: forgot password with them", async ({ page, baseURL }, info) => {
  test.skip(info.project.name !== "js", "needs the Chinese journey above (js project)");
  const student = STUDENTS.zh;
  await page.context().addCookies([{ name: "i18n_pref_locale", value: "en", url: baseURL! }]);
  await page.goto("/forgot-password");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.getByLabel("User Name").fill(student.login);
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/\/forgot-password\/questions$/);
  await expectAccessible(page, "en forgot-password questions");
  // Two of the three questions, in English; answer each with what was typed in Chinese.
  const byQuestion: Record<string, string> = {
    [T.en.questions.food]: ANSWERS.zh[0],
    [T.en.questions.animal]: ANSWERS.zh[1],
    [T.en.questions.colour]: ANSWERS.zh[2],
  };
  for (const n of [1, 2]) {
    const label = (await page.locator(`label[for="answer${n}"]`).innerText()).trim();
    expect(Object.keys(byQuestion)).toContain(label);
    await page.locator(`#answer${n}`).fill(byQuestion[label]);
  }
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/\/forgot-password\/new-password$/);
  await page.locator("#new_password").fill("Red-Kite-Soars-22");
  await page.locator("#confirm_password").fill("Red-Kite-Soars-22");
  await page.getByRole("button", { name: "Change Password" }).click();
  await expect(page).toHaveURL(/\/forgot-password\/done$/);
});

test("the language defaults from Accept-Language and is rendered by the server", async ({ browser, baseURL, request }) => {
  for (const [browserLocale, header, loc] of [
    ["zh-CN", "zh-CN,zh;q=0.9,en;q=0.5", "zh"],
    ["ta-SG", "ta-SG,ta;q=0.9", "ta"],
    ["ms-MY", "ms-MY,ms;q=0.8", "ms"],
    ["fr-FR", "fr-FR,fr;q=0.9", "en"],
  ] as const) {
    // The HTML itself, as any client gets it.
    const html = await (await request.get(`${baseURL}/`, { headers: { "Accept-Language": header } })).text();
    expect(html).toContain(`<html lang="${loc}"`);
    expect(html).toContain(`<h1>${T[loc].portal_title}</h1>`);
    // A browser whose language is set so (it sends the header itself).
    const context = await browser.newContext({ javaScriptEnabled: false, locale: browserLocale });
    const page = await context.newPage();
    // No JavaScript: what shows is what the server rendered (no flash of English).
    await page.goto(`${baseURL}/`);
    await expect(page.locator("html")).toHaveAttribute("lang", loc);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(T[loc].portal_title);
    await expect(page.locator("#language")).toHaveValue(loc);
    await context.close();
  }
});

test("the language is remembered in a cookie and switches mid-journey without losing the step", async ({ page }, info) => {
  const js = info.project.name === "js";
  await page.goto("/");
  if (js) await hydrated(page);
  // The selector is a GET form with a "Change" button, with and without JavaScript.
  await page.locator("#language").selectOption("ms");
  await page.getByRole("button", { name: T.en.change_language }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "ms");
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === "i18n_pref_locale")?.value).toBe("ms");
  // A new page load keeps it.
  await page.goto("/forgot-password");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(T.ms.forgot.heading);
  if (js) await hydrated(page);
  await page.locator("#username").fill("typed-before-switch");
  // Mid-step: the same screen comes back in the new language.
  await page.locator("#language").selectOption("ta");
  await page.getByRole("button", { name: T.ms.change_language }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(T.ta.forgot.heading);
  if (js) {
    // What was typed is still there (kept over the reload).
    await hydrated(page);
    await expect(page.locator("#username")).toHaveValue("typed-before-switch");
  }
  // The address's query comes back too: the time-out notice, now in English.
  await page.goto("/?timeout=1");
  await page.locator("#language").selectOption("en");
  await page.getByRole("button", { name: T.ta.change_language }).click();
  await expect(page).toHaveURL(/\/\?timeout=1$/);
  await expect(page.getByText(T.en.sign_in.timed_out)).toBeVisible();
});

test("a 360 px phone and 200% zoom: nothing cut off, in Tamil and Chinese", async ({ browser, baseURL }, info) => {
  test.skip(info.project.name !== "js", "layout only");
  for (const [loc, viewport, scale, label, login] of [
    ["ta", { width: 360, height: 740 }, 3, "phone-360", "meena_pillai@students.edu.sg"],
    ["zh", { width: 360, height: 740 }, 3, "phone-360", null],
    // 200% zoom of a 1280×720 window lays out in 640×360 CSS pixels at twice the density.
    ["ta", { width: 640, height: 360 }, 2, "zoom-200", "daniel_ong@students.edu.sg"],
    ["en", { width: 640, height: 360 }, 2, "zoom-200", null],
  ] as const) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: scale });
    await context.addCookies([{ name: "i18n_pref_locale", value: loc, url: baseURL! }]);
    const page = await context.newPage();
    for (const path of ["/", "/forgot-password"]) {
      await page.goto(`${baseURL}${path}`);
      await hydrated(page);
      await expectAccessible(page, `${loc} ${label} ${path}`);
      await shot(page, `${label}-${loc}${path.replace(/\//g, "_")}`);
    }
    if (login) {
      await page.goto(`${baseURL}/`);
      await hydrated(page);
      await page.locator("#username").fill(login);
      await page.locator("#password").fill(TEMP);
      await page.getByRole("button", { name: T[loc].sign_in.submit, exact: true }).click();
      await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
      await hydrated(page);
      await page.getByTestId("guide").locator("summary").click();
      await expectAccessible(page, `${loc} ${label} setup questions`);
      await shot(page, `${label}-${loc}_setup-questions`);
    }
    await context.close();
  }
});
