// Benchmark 6 of issue 7 (not a test run): figures measured in Chromium against the
// release server, printed to the console. Run: `npx playwright test --config bench.config.ts`
// (bench/run does it). Same browser and server set-up as the tests.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testDir: "./bench",
  testMatch: /.*\.bench\.ts/,
  timeout: 300_000,
  projects: [{ name: "js", use: { browserName: "chromium", javaScriptEnabled: true } }],
  // Only the main server: the short-timeout one is for a test.
  webServer: Array.isArray(base.webServer) ? base.webServer[0] : base.webServer,
});
