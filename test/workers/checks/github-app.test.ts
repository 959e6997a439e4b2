/**
 * The deep check as a GitHub App: a key that does not import, a JWT GitHub refuses, an App not installed on an
 * allowlisted owner, an installation without the permission, an installation id that is not the App's — each
 * failure naming the check and the fix — and a healthy App.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type AppKeyPair, generateAppKeyPair } from "../../emulators/github/app-keys.ts";
import type { Vars } from "../../support/vars.ts";
import { check, deployment, healthApp, names } from "./harness.ts";

const APP_ID = 777;
/** Text between the right PEM lines that is not a key: the configuration accepts it, WebCrypto does not. */
const NOT_A_KEY = `-----BEGIN RSA PRIVATE KEY-----\n${btoa("this is not an RSA key at all")}\n-----END RSA PRIVATE KEY-----`;

let keys: AppKeyPair;
let otherKeys: AppKeyPair;

beforeAll(async () => {
  [keys, otherKeys] = await Promise.all([generateAppKeyPair(), generateAppKeyPair()]);
});

const appVars = (vars: Vars = {}): Vars => ({
  GITHUB_TOKEN: "",
  GITHUB_APP_ID: String(APP_ID),
  GITHUB_APP_PRIVATE_KEY: keys.pkcs1,
  ...vars,
});

async function appDeployment(label: string, vars: Vars, permissions?: Record<string, "read" | "write">) {
  const setup = deployment(label, appVars(vars));
  await setup.github.seed({
    apps: [{ id: APP_ID, publicKey: keys.publicKeyPem }],
    installations: [
      { id: 71, appId: APP_ID, account: "acme", ...(permissions === undefined ? {} : { permissions }) },
    ],
  });
  return setup;
}

describe("GitHub checks as an App", () => {
  it("a healthy App: key, JWT, installations and runner access, all proven", async () => {
    const setup = await appDeployment("app-healthy", {
      GITHUB_APP_INSTALLATION_ID: "71",
      ALLOWED_REPOS: "acme/api",
    });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(200);
    expect(names(answer).filter((name) => name.startsWith("github."))).toEqual([
      "github.app-key",
      "github.app",
      "github.installation",
      "github.installation:acme",
      "github.runners:acme/api",
    ]);
    expect(check(answer, "github.app").detail).toContain(`(id ${APP_ID}, 1 installations)`);
    expect(check(answer, "github.installation:acme").detail).toBe(
      "installation 71 on acme issues tokens granted administration: write",
    );
    expect(check(answer, "github.runners:acme/api").detail).toBe(
      "installation 71 lists the runners of acme/api (0 registered)",
    );
    // One token exchange serves both installation checks and the runner listing.
    const routes = (await setup.github.requests()).map((request) => request.route);
    expect(routes.filter((route) => route?.endsWith("/access_tokens"))).toHaveLength(1);
    expect(answer.text).not.toContain(keys.pkcs1.split("\n")[1]);
  });

  it("a private key that is not a key fails github.app-key, calls nothing, and warns on plain /healthz", async () => {
    const setup = await appDeployment("app-pem", {
      GITHUB_APP_PRIVATE_KEY: NOT_A_KEY,
      ALLOWED_REPOS: "acme/api",
    });
    const health = healthApp();
    const plain = await health.plain(setup.env);
    expect(plain.status).toBe(200);
    expect(plain.body.warnings).toContain(
      "GITHUB_APP_PRIVATE_KEY could not be read as an RSA private key: every GitHub App call fails until it holds the private key GitHub generated for the App",
    );
    const answer = await health.deep(setup.env);
    expect(answer.status).toBe(503);
    expect(names(answer).filter((name) => name.startsWith("github."))).toEqual(["github.app-key"]);
    expect(check(answer, "github.app-key")).toMatchObject({
      ok: false,
      detail: "GITHUB_APP_PRIVATE_KEY could not be read as an RSA private key; no GitHub App call was made",
      fix: expect.stringContaining("the private key GitHub generated for the App"),
    });
    expect(await setup.github.requests()).toEqual([]);
    expect(answer.text + plain.text).not.toContain(btoa("this is not an RSA key at all"));
  });

  it("a JWT GitHub refuses (another App's key) fails github.app with what to check", async () => {
    const setup = await appDeployment("app-jwt", {
      GITHUB_APP_PRIVATE_KEY: otherKeys.pkcs1,
      ALLOWED_REPOS: "acme/api",
    });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "github.app-key").ok).toBe(true);
    expect(check(answer, "github.app")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("401"),
      fix: expect.stringContaining(
        "GITHUB_APP_ID must be the ID (or client ID) of the App this private key belongs to",
      ),
    });
    expect(names(answer).filter((name) => name.startsWith("github."))).toEqual([
      "github.app-key",
      "github.app",
    ]);
  });

  it("an App not installed on an allowlisted owner fails github.installation:<owner> with where to install it", async () => {
    const setup = await appDeployment("app-missing", { ALLOWED_REPOS: "acme/api,elsewhere/tools,third/*" });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "github.installation:acme").ok).toBe(true);
    expect(check(answer, "github.installation:elsewhere")).toEqual({
      name: "github.installation:elsewhere",
      ok: false,
      detail: `the App "App ${APP_ID}" is not installed on elsewhere/tools`,
      fix: `install it on elsewhere, with access to tools: https://github.com/apps/app-${APP_ID}/installations/new`,
    });
    expect(check(answer, "github.installation:third").fix).toContain(
      "if third is a user, not an organization",
    );
    // Runner access is checked where an installation was found, and only there.
    expect(names(answer).filter((name) => name.startsWith("github.runners"))).toEqual([
      "github.runners:acme/api",
    ]);
  });

  it("an installation without the permission fails with the permission to grant", async () => {
    const setup = await appDeployment(
      "app-permission",
      { RUNNER_SCOPE: "org", ALLOWED_REPOS: "acme/*" },
      { administration: "write", metadata: "read" },
    );
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "github.installation:acme")).toEqual({
      name: "github.installation:acme",
      ok: false,
      detail:
        "installation 71 on acme issues tokens, granted organization_self_hosted_runners: none; registering runners needs write",
      fix: 'give the App "Self-hosted runners" (an organization permission): read & write in its settings, then approve the new permissions on installation 71',
    });
    expect(names(answer)).not.toContain("github.runners:acme");
  });

  it("an installation id that is not the App's fails github.installation", async () => {
    const setup = await appDeployment("app-id", { GITHUB_APP_INSTALLATION_ID: "999" });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "github.installation")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("404"),
      fix: expect.stringContaining("installation 999 is not an installation of this App"),
    });
  });

  it("without an installation id or an allowlist, proves key and JWT and says there is no installation to check", async () => {
    const setup = await appDeployment("app-none", { ALLOWED_REPOS: "" });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(200);
    expect(check(answer, "github.app").detail).toContain("only the credential itself was checked");
    expect(check(answer, "github.installation").detail).toContain("no installation to check");
    expect((await setup.github.requests()).map((request) => request.route)).toEqual(["GET /app"]);
  });
});
