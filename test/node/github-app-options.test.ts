/** `npm run setup:github-app`'s options, and where each kind of GitHub keeps its web pages and its API. */
import { describe, expect, it } from "vitest";
import {
  appSettingsUrl,
  installationUrl,
  newAppPageUrl,
  resolveGitHubHost,
} from "../../scripts/lib/github-app/github-host.ts";
import { DEFAULT_TIMEOUT_SECONDS, parseGitHubAppOptions } from "../../scripts/lib/github-app/options.ts";

const WORKER = "https://actions-on-modal.octo-ops.workers.dev";
const parse = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  parseGitHubAppOptions(["--worker-url", WORKER, ...args], env);

describe("resolveGitHubHost", () => {
  it("github.com: the API on api.github.com, whichever of the two is given", () => {
    expect(resolveGitHubHost("https://github.com").host).toEqual({
      kind: "github.com",
      webUrl: "https://github.com",
      apiUrl: "https://api.github.com",
    });
    expect(resolveGitHubHost("https://api.github.com/").note).toContain("the web address");
  });

  it("GitHub Enterprise Server: the API under /api/v3 of the web host", () => {
    expect(resolveGitHubHost("https://github.example.com/").host).toEqual({
      kind: "ghes",
      webUrl: "https://github.example.com",
      apiUrl: "https://github.example.com/api/v3",
    });
    const fromApi = resolveGitHubHost("https://github.example.com/api/v3");
    expect(fromApi.host.webUrl).toBe("https://github.example.com");
    expect(fromApi.note).toContain("its API is https://github.example.com/api/v3");
  });

  it("GHE.com: the API on api.<subdomain>.ghe.com", () => {
    expect(resolveGitHubHost("https://octocorp.ghe.com").host).toEqual({
      kind: "ghe.com",
      webUrl: "https://octocorp.ghe.com",
      apiUrl: "https://api.octocorp.ghe.com",
    });
  });

  it("builds the pages a person visits", () => {
    const { host } = resolveGitHubHost("https://github.example.com");
    expect(newAppPageUrl(host, undefined, "s1")).toBe(
      "https://github.example.com/settings/apps/new?state=s1",
    );
    expect(newAppPageUrl(host, "octo-org", "s1")).toBe(
      "https://github.example.com/organizations/octo-org/settings/apps/new?state=s1",
    );
    expect(installationUrl(host, "my-app")).toBe("https://github.example.com/apps/my-app/installations/new");
    expect(appSettingsUrl(host, "my-app", "octo-org")).toBe(
      "https://github.example.com/organizations/octo-org/settings/apps/my-app",
    );
  });
});

describe("parseGitHubAppOptions", () => {
  it("defaults: github.com, the user's account, repository runners, any port, a browser, 10 minutes", () => {
    const options = parse([]);
    expect(options).toMatchObject({
      workerUrl: WORKER,
      github: { kind: "github.com" },
      org: undefined,
      runnerScope: "repo",
      port: 0,
      open: true,
      timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
      dryRun: false,
      accountId: undefined,
      notes: [],
    });
    expect(options.name).toMatch(/^actions-on-modal-[0-9a-f]{6}$/);
  });

  it("takes the Worker's URL with a trailing slash, or its webhook URL (with a note)", () => {
    expect(parseGitHubAppOptions(["--worker-url", `${WORKER}/`]).workerUrl).toBe(WORKER);
    const fromWebhook = parseGitHubAppOptions(["--worker-url", `${WORKER}/webhook`]);
    expect(fromWebhook.workerUrl).toBe(WORKER);
    expect(fromWebhook.notes).toEqual([expect.stringContaining("the webhook is")]);
    expect(parseGitHubAppOptions(["--worker-url", "http://127.0.0.1:8787"]).workerUrl).toBe(
      "http://127.0.0.1:8787",
    );
  });

  it("reads every option", () => {
    const options = parse(
      [
        "--org",
        "octo-org",
        "--runner-scope",
        "org",
        "--name",
        "  Octo Runners ",
        "--github-url",
        "https://github.example.com",
        "--port",
        "8123",
        "--no-open",
        "--timeout",
        "90",
        "--dry-run",
      ],
      { CLOUDFLARE_ACCOUNT_ID: "abc" },
    );
    expect(options).toMatchObject({
      org: "octo-org",
      runnerScope: "org",
      name: "Octo Runners",
      github: { kind: "ghes", apiUrl: "https://github.example.com/api/v3" },
      port: 8123,
      open: false,
      timeoutSeconds: 90,
      dryRun: true,
      accountId: "abc",
    });
    expect(parse(["--account-id", "def"], { CLOUDFLARE_ACCOUNT_ID: "abc" }).accountId).toBe("def");
  });

  it.each([
    [["--worker-url", "ftp://example.com"], "--worker-url must be an absolute http(s) URL"],
    [["--worker-url", `${WORKER}?x=1`], "--worker-url must be an absolute http(s) URL"],
    [["--worker-url", "http://example.com"], "--worker-url must be an https URL (http only on loopback)"],
    [["--worker-url", WORKER, "--github-url", "github.example.com"], "--github-url must be an absolute"],
    [["--worker-url", WORKER, "--org=-octo"], "--org is not a GitHub organization name"],
    [["--worker-url", WORKER, "--org", "octo--org"], "--org is not a GitHub organization name"],
    [["--worker-url", WORKER, "--runner-scope", "enterprise"], "--runner-scope is repo or org"],
    [["--worker-url", WORKER, "--runner-scope", "org"], "--runner-scope org needs --org <org>"],
    [["--worker-url", WORKER, "--name", " "], "--name must not be empty"],
    [["--worker-url", WORKER, "--name", "x".repeat(35)], "--name is at most 34 characters on GitHub"],
    [["--worker-url", WORKER, "--port=-1"], "--port must be a whole number from 0 to 65535"],
    [["--worker-url", WORKER, "--timeout", "0"], "--timeout must be a whole number from 1 to 3600"],
    [[], "--worker-url <https://…> is required"],
  ])("refuses %j", (args, message) => {
    expect(() => parseGitHubAppOptions(args, {})).toThrow(message);
  });
});
