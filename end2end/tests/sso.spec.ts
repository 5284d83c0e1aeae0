// Single sign-on with relying parties nobody here wrote: Apache httpd with
// mod_auth_openidc (Debian's packages) protects two pages, configured through the
// portal's discovery document. A student opens the protected page, signs in at the
// portal with the letter's password, goes through the whole first-login journey and
// lands back on the Apache page, which prints the `preferred_username` claim. A second
// app opens without a password while the portal session lives; after signing out
// (RP-initiated logout from the app), the app asks again. With and without JavaScript.
//
// This spec runs against its own portal (`--demo`, port 3102, its own database), so the
// practice accounts it uses are fresh whatever the other specs did.
import { spawn, execFileSync, ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Page } from "@playwright/test";
import { test, expect } from "./fixtures";
import { T, TEMP, fill, shot } from "./helpers";
import { SSO_PORT } from "../playwright.config";

const ROOT = path.resolve(__dirname, "..", "..");
const PORTAL = `http://127.0.0.1:${SSO_PORT}`;
const DATABASE_URL =
  process.env.E2E_SSO_DATABASE_URL ?? `sqlite:${ROOT}/target/e2e-sso/portal.db`;
const SERVER = process.env.E2E_SERVER_BIN ?? `${ROOT}/target/release/server`;
const APACHE = process.env.APACHE_BIN ?? "/usr/sbin/apache2";
const NEW_PASSWORD = "Orange-Kite-Flies7";

test.use({ baseURL: PORTAL });

/** `server clients add …`, as a school's administrator runs it: the id and secret. */
function register(name: string, redirectUri: string): { id: string; secret: string } {
  const out = execFileSync(
    SERVER,
    ["clients", "add", "--name", name, "--redirect-uri", redirectUri, "--roles", "student"],
    { env: { ...process.env, DATABASE_URL, RUST_LOG: "warn" } },
  ).toString();
  const field = (name: string) => out.match(new RegExp(`^${name}\\t(.+)$`, "m"))?.[1] ?? "";
  return { id: field("client_id"), secret: field("client_secret") };
}

interface App {
  name: string;
  path: string;
  port: number;
}

/** Apache httpd on the loopback with one mod_auth_openidc virtual host per app. */
async function startApache(apps: App[]): Promise<{ stop: () => Promise<void>; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sso-apache-"));
  fs.chmodSync(dir, 0o755);
  const vhosts = apps.map((app) => {
    const docs = path.join(dir, "docs", app.path);
    fs.mkdirSync(docs, { recursive: true });
    fs.writeFileSync(
      path.join(docs, "index.shtml"),
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${app.name}</title></head>
<body><main><h1>${app.name}</h1>
<p id="user">Signed in as <!--#echo var="OIDC_CLAIM_preferred_username" --></p>
<p id="name"><!--#echo var="OIDC_CLAIM_name" --></p>
<p id="class"><!--#echo var="OIDC_CLAIM_class" --></p>
</main></body></html>
`,
    );
    const client = register(app.name, `http://localhost:${app.port}/${app.path}/redirect_uri`);
    expect(client.id, "the portal printed a client id").toMatch(/^[0-9a-f]{32}$/);
    return `<VirtualHost 127.0.0.1:${app.port}>
  ServerName localhost:${app.port}
  DocumentRoot ${path.join(dir, "docs")}
  OIDCProviderMetadataURL ${PORTAL}/.well-known/openid-configuration
  OIDCClientID ${client.id}
  OIDCClientSecret ${client.secret}
  OIDCRedirectURI http://localhost:${app.port}/${app.path}/redirect_uri
  OIDCCryptoPassphrase passphrase-${app.path}-${Date.now()}
  OIDCScope "openid school"
  OIDCPKCEMethod S256
  OIDCSSLValidateServer Off
  OIDCCookie ${app.path}_session
  OIDCPassClaimsAs environment
  OIDCRemoteUserClaim preferred_username
  <Location /${app.path}/>
    AuthType openid-connect
    Require valid-user
    Options +Includes
    AddOutputFilter INCLUDES .shtml
    DirectoryIndex index.shtml
  </Location>
</VirtualHost>`;
  });
  fs.chmodSync(path.join(dir, "docs"), 0o755);
  const conf = path.join(dir, "httpd.conf");
  fs.writeFileSync(
    conf,
    `ServerRoot /usr/lib/apache2
ServerName localhost
PidFile ${dir}/httpd.pid
DefaultRuntimeDir ${dir}
Mutex file:${dir} default
ErrorLog ${dir}/error.log
LogLevel warn
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule authn_core_module modules/mod_authn_core.so
LoadModule authz_user_module modules/mod_authz_user.so
LoadModule mime_module modules/mod_mime.so
LoadModule dir_module modules/mod_dir.so
LoadModule include_module modules/mod_include.so
LoadModule auth_openidc_module modules/mod_auth_openidc.so
TypesConfig /etc/mime.types
${process.getuid && process.getuid() === 0 ? "User www-data\nGroup www-data" : ""}
${apps.map((app) => `Listen 127.0.0.1:${app.port}`).join("\n")}
${vhosts.join("\n")}
`,
  );
  const proc: ChildProcess = spawn(APACHE, ["-f", conf, "-DFOREGROUND"], { stdio: "inherit" });
  const exited = new Promise<void>((resolve) => proc.on("exit", () => resolve()));
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${apps[apps.length - 1].port}/`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    dir,
    stop: async () => {
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

/** Steps 3 to 8 of the journey, from the set-up screen to "Continue" on step 8. */
async function journey(page: Page, waitingApp: string) {
  const returning = fill(T.en.sign_on.returning, { app: waitingApp });
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await expect(page.getByTestId("returning-to")).toHaveText(returning);
  await page.locator("#question1").selectOption({ label: T.en.questions.fruit });
  await page.locator("#answer1").fill("Rambutan");
  await page.locator("#question2").selectOption({ label: T.en.questions.bird });
  await page.locator("#answer2").fill("Kingfisher");
  await page.locator("#question3").selectOption({ label: T.en.questions.hobby });
  await page.locator("#answer3").fill("Badminton");
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page.getByTestId("returning-to")).toHaveText(returning);
  await page.getByRole("button", { name: "Confirm Security Answers" }).click();
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/sspr\/change-password$/);
  await expect(page.getByTestId("returning-to")).toHaveText(returning);
  await page.locator("#new_password").fill(NEW_PASSWORD);
  await page.locator("#confirm_password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change Password" }).click();
  await expect(page).toHaveURL(/\/sspr\/password-changed$/);
  await page.getByRole("link", { name: "Continue" }).click();
}

async function signIn(page: Page, login: string, password: string) {
  await page.locator("#username").fill(login);
  await page.locator("#password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("an Apache page behind mod_auth_openidc: the journey first, then back signed in; a second app without a password; asked again after signing out", async ({
  page,
}, info) => {
  const js = info.project.name === "js";
  const login = js ? "lim_wei_ling@students.edu.sg" : "priya_subramaniam@students.edu.sg";
  const base = js ? 3210 : 3220;
  const apps: App[] = [
    { name: "Class Blog", path: "blog", port: base },
    { name: "Library", path: "library", port: base + 1 },
  ];
  const apache = await startApache(apps);
  try {
    // The protected page sends the browser to the portal's sign-in page, which says
    // which app is waiting.
    await page.goto(`http://localhost:${apps[0].port}/blog/`);
    await expect(page).toHaveURL(`${PORTAL}/`);
    await expect(page.getByTestId("returning-to")).toHaveText(
      fill(T.en.sign_on.returning, { app: "Class Blog" }),
    );
    await shot(page, `sso-${info.project.name}-01-sign-in-for-app`);
    await signIn(page, login, TEMP);
    await journey(page, "Class Blog");
    // Back on the Apache page, signed in: it prints the claims mod_auth_openidc passes on.
    await expect(page).toHaveURL(`http://localhost:${apps[0].port}/blog/`);
    await expect(page.locator("#user")).toHaveText(`Signed in as ${login}`);
    await expect(page.locator("#class")).toHaveText("P5 Kindness");
    await shot(page, `sso-${info.project.name}-02-back-at-the-app`);

    // A second app: no password while the portal session lives.
    await page.goto(`http://localhost:${apps[1].port}/library/`);
    await expect(page).toHaveURL(`http://localhost:${apps[1].port}/library/`);
    await expect(page.locator("#user")).toHaveText(`Signed in as ${login}`);
    await shot(page, `sso-${info.project.name}-03-second-app`);

    // Signing out from the app (mod_auth_openidc's logout → the portal's end-session,
    // confirmed there) ends the portal session: the app asks for the password again.
    await page.goto(
      `http://localhost:${apps[0].port}/blog/redirect_uri?logout=${encodeURIComponent(
        `http://localhost:${apps[0].port}/blog/`,
      )}`,
    );
    await expect(page.getByRole("heading", { name: "Sign out of the portal?" })).toBeVisible();
    await shot(page, `sso-${info.project.name}-04-sign-out`);
    await page.getByRole("button", { name: "Sign Out" }).click();
    await expect(page).toHaveURL(`${PORTAL}/`);
    await expect(page.locator("#password")).toBeVisible();
    await expect(page.getByTestId("returning-to")).toHaveText(
      fill(T.en.sign_on.returning, { app: "Class Blog" }),
    );
    // The new password brings the student straight back (the journey is done).
    await signIn(page, login, NEW_PASSWORD);
    await expect(page).toHaveURL(`http://localhost:${apps[0].port}/blog/`);
    await expect(page.locator("#user")).toHaveText(`Signed in as ${login}`);
  } finally {
    await apache.stop();
  }
});

test("practice mode: the Student Learning Space tile signs the student in after the journey", async ({
  page,
}, info) => {
  const js = info.project.name === "js";
  const [name, login] = js
    ? ["Allen Tan", "allen_tan@students.edu.sg"]
    : ["Chloe Ng", "chloe_ng@students.edu.sg"];
  await page.goto("/");
  await signIn(page, login, TEMP);
  await expect(page).toHaveURL(/\/sspr\/setup-questions$/);
  await page.locator("#question1").selectOption({ label: T.en.questions.fruit });
  await page.locator("#answer1").fill("Durian");
  await page.locator("#question2").selectOption({ label: T.en.questions.bird });
  await page.locator("#answer2").fill("Sunbird");
  await page.locator("#question3").selectOption({ label: T.en.questions.hobby });
  await page.locator("#answer3").fill("Chess");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("button", { name: "Confirm Security Answers" }).click();
  await page.getByRole("link", { name: "Continue" }).click();
  await page.locator("#new_password").fill(NEW_PASSWORD);
  await page.locator("#confirm_password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Change Password" }).click();
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/portal/);
  await page.getByRole("link", { name: new RegExp(T.en.portal.sls_title) }).click();
  await expect(page.getByTestId("demo-greeting")).toHaveText(
    `Signed in to Student Learning Space as ${name} (${login}), P5 Kindness`,
  );
  await shot(page, `sso-${info.project.name}-05-demo-app`);
});
