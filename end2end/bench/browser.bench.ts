// Benchmark 6 of issue 7, in Chromium on loopback against the release server:
//
// 1. time to hydration of the sign-in page (navigation start → <body data-hydrated>,
//    seen by a MutationObserver installed before any page script), cold (new browser
//    context: nothing cached) and warm (reload: wasm from the cache), against
//    DOMContentLoaded of the same navigations (the HTML alone);
// 2. keystroke → checklist update on the change-password screen: from the keydown
//    event's timestamp to the first change of the rule checklist's DOM (a
//    MutationObserver), over keystrokes that each flip the length rule (11 ↔ 12
//    characters). Goal: p95 ≤ 4 ms. Baseline in the same run: keydown → the `input`
//    event of the same keystroke (the browser's own work before any app code); and
//    the app's own share, from that `input` event (a listener that runs before the
//    app's) to the checklist's change.
//
// Figures are printed, nothing is asserted about time.
import { test, expect, Page } from "@playwright/test";

const LOGIN = "allen_tan@students.edu.sg";
const TEMP = "2024Kmps";
const RUNS = Number(process.env.BENCH_LOADS ?? 15);
const KEYS = Number(process.env.BENCH_KEYS ?? 200);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))];
}
const ms = (v: number) => `${v.toFixed(2)} ms`;

const OBSERVE_HYDRATION = () => {
  new MutationObserver((_, observer) => {
    if (document.body?.getAttribute("data-hydrated") === "true") {
      (window as any).__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
};

async function loadTimes(page: Page): Promise<{ hydrated: number; dcl: number }> {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    return { hydrated: (window as any).__hydratedAt as number, dcl: nav.domContentLoadedEventEnd };
  });
}

test("time to hydration and keystroke latency", async ({ browser, baseURL }) => {
  const cold: { hydrated: number; dcl: number }[] = [];
  const warm: { hydrated: number; dcl: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ baseURL });
    await context.addInitScript(OBSERVE_HYDRATION);
    const page = await context.newPage();
    await page.goto("/");
    cold.push(await loadTimes(page));
    await page.reload();
    warm.push(await loadTimes(page));
    await context.close();
  }
  const median = (xs: number[]) => pct(xs, 50);
  console.log(`benchmark 6: Chromium ${browser.version()} on loopback, release build`);
  for (const [name, runs] of [
    ["cold (new context)", cold],
    ["warm (reload)     ", warm],
  ] as const) {
    const h = median(runs.map((r) => r.hydrated));
    const d = median(runs.map((r) => r.dcl));
    console.log(
      `  hydration ${name}: median ${ms(h)} (p95 ${ms(pct(runs.map((r) => r.hydrated), 95))}); ` +
        `DOMContentLoaded median ${ms(d)}; hydration / DOMContentLoaded = ${(h / d).toFixed(2)}`,
    );
  }

  // To the change-password screen: the journey's server functions, then the page.
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const api = async (name: string, form: Record<string, string>) => {
    const r = await context.request.post(`/api/${name}`, {
      form,
      headers: { accept: "application/json" },
    });
    expect(r.status(), name).toBe(200);
  };
  await api("sign_in", { username: LOGIN, password: TEMP });
  await api("setup_questions", {
    question1: "food",
    answer1: "Chicken rice",
    question2: "animal",
    answer2: "Otter",
    question3: "colour",
    answer3: "Turquoise",
  });
  await api("confirm_questions", {});
  await page.goto("/sspr/change-password");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const field = page.locator("#new_password");
  await field.fill("Kx7#mQ2p!vL"); // 11 characters: one short of the minimum
  await expect(page.locator('[data-rule="min_length"]')).toHaveAttribute("data-status", /.+/);
  await page.evaluate(() => {
    const w = window as any;
    w.__checklist = [];
    w.__input = [];
    w.__app = [];
    let down: number | null = null;
    let inputPending: number | null = null;
    let inputAt: number | null = null;
    const input = document.querySelector("#new_password")!;
    input.addEventListener(
      "keydown",
      (e) => {
        down = e.timeStamp;
        inputPending = e.timeStamp;
      },
      true,
    );
    input.addEventListener(
      "input",
      () => {
        inputAt = performance.now();
        if (inputPending !== null) w.__input.push(inputAt - inputPending);
        inputPending = null;
      },
      true,
    );
    new MutationObserver(() => {
      const now = performance.now();
      if (down !== null) w.__checklist.push(now - down);
      if (inputAt !== null) w.__app.push(now - inputAt);
      down = null;
      inputAt = null;
    }).observe(document.querySelector('[data-testid="password-rules"]')!, {
      subtree: true,
      attributes: true,
      childList: true,
      characterData: true,
    });
  });
  const length = page.locator('[data-rule="min_length"]');
  const before = await length.getAttribute("data-status");
  for (let i = 0; i < KEYS; i++) {
    await page.keyboard.press(i % 2 === 0 ? "z" : "Backspace");
  }
  // The rule flipped on the keystrokes (not only measured): it is back where it began.
  await expect(length).toHaveAttribute("data-status", before!);
  const { checklist, input, app } = await page.evaluate(() => ({
    checklist: (window as any).__checklist as number[],
    input: (window as any).__input as number[],
    app: (window as any).__app as number[],
  }));
  expect(checklist.length, "one checklist update per keystroke").toBe(KEYS);
  console.log(
    `  keystroke -> checklist (${checklist.length} keys): p50 ${ms(pct(checklist, 50))}, ` +
      `p95 ${ms(pct(checklist, 95))}, max ${ms(pct(checklist, 100))}   (goal p95 <= 4 ms)`,
  );
  console.log(
    `  keystroke -> input event (baseline): p50 ${ms(pct(input, 50))}, p95 ${ms(pct(input, 95))}`,
  );
  console.log(
    `  input event -> checklist updated (the app's own work): p50 ${ms(pct(app, 50))}, ` +
      `p95 ${ms(pct(app, 95))}, max ${ms(pct(app, 100))}`,
  );
  console.log(
    `  RESULT keystroke->checklist p95 = ${ms(pct(checklist, 95))}; ` +
      `${(pct(checklist, 95) / Math.max(pct(input, 95), 0.001)).toFixed(1)} x the input-event baseline`,
  );
  await context.close();
});
