import { defineConfig } from "@playwright/test";

const port = process.env.E2E_PORT ?? "3100";
const baseURL = process.env.BASE_URL ?? `http://127.0.0.1:${port}`;
// A second server with a short idle timeout, for the timeout warning (timeout.spec.ts).
export const SHORT_TIMEOUT_PORT = process.env.E2E_SHORT_TIMEOUT_PORT ?? "3101";
export const SHORT_IDLE_TIMEOUT_SECS = 65;
// A third server for single sign-on (sso.spec.ts): its own database, so the practice
// accounts it signs in are fresh whatever the other specs did.
export const SSO_PORT = process.env.E2E_SSO_PORT ?? "3102";

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
    : [
        {
          command: "./serve.sh",
          url: `${baseURL}/`,
          reuseExistingServer: false,
          timeout: 60_000,
          env: { E2E_ADDR: `127.0.0.1:${port}` },
          stdout: "pipe",
          stderr: "pipe",
        },
        {
          command: "./serve.sh",
          url: `http://127.0.0.1:${SHORT_TIMEOUT_PORT}/`,
          reuseExistingServer: false,
          timeout: 60_000,
          env: {
            E2E_ADDR: `127.0.0.1:${SHORT_TIMEOUT_PORT}`,
            E2E_DB_DIR: "target/e2e-short-timeout",
            PORTAL_IDLE_TIMEOUT_SECS: String(SHORT_IDLE_TIMEOUT_SECS),
          },
          stdout: "pipe",
          stderr: "pipe",
        },
        {
          command: "./serve.sh",
          url: `http://127.0.0.1:${SSO_PORT}/`,
          reuseExistingServer: false,
          timeout: 60_000,
          env: {
            E2E_ADDR: `127.0.0.1:${SSO_PORT}`,
            E2E_DB_DIR: "target/e2e-sso",
          },
          stdout: "pipe",
          stderr: "pipe",
        },
      ],
});
