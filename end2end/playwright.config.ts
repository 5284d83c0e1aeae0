import { defineConfig } from "@playwright/test";

const port = process.env.E2E_PORT ?? "3100";
const baseURL = process.env.BASE_URL ?? `http://127.0.0.1:${port}`;

// Debian's Chromium; Playwright's own browser download is not available here.
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    launchOptions,
    trace: "off",
    screenshot: "only-on-failure",
  },
  projects: [
    { name: "js", use: { browserName: "chromium", javaScriptEnabled: true } },
    { name: "no-js", use: { browserName: "chromium", javaScriptEnabled: false } },
  ],
  webServer: process.env.BASE_URL
    ? undefined
    : {
        command: "./serve.sh",
        url: `${baseURL}/`,
        reuseExistingServer: false,
        timeout: 60_000,
        env: { E2E_ADDR: `127.0.0.1:${port}` },
        stdout: "pipe",
        stderr: "pipe",
      },
});
