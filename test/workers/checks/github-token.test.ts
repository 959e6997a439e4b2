/**
 * The deep check with a PAT: a token GitHub refuses (401), one without the permission (403), a repository it
 * cannot find (404), an allowlist without a repository, organization scope, a fine-grained token, a rate limit —
 * each failure naming the check and the fix.
 */
import { describe, expect, it } from "vitest";
import { check, deployment, healthApp, names } from "./harness.ts";

const PAT = "ghp_checksTOKEN0123456789abcdefABCDEF01";
const FINE_GRAINED = "github_pat_11CHECKS0123456789_abcdefABCDEF0123456789";
const RUNNERS = "GET /repos/{owner}/{repo}/actions/runners";

describe("GitHub checks with a PAT", () => {
  it("a token GitHub refuses fails github.token (401) and checks nothing else on GitHub", async () => {
    const setup = deployment("pat-401", { GITHUB_TOKEN: PAT, ALLOWED_REPOS: "acme/api" });
    await setup.github.seed({ tokens: [{ token: "ghp_someoneElsesTOKEN0123456789abcdef" }] });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "github.token")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("401 Bad credentials"),
      fix: expect.stringContaining("GITHUB_TOKEN is wrong, expired or revoked"),
    });
    expect(names(answer).filter((name) => name.startsWith("github."))).toEqual(["github.token"]);
    expect(check(answer, "modal.app").ok).toBe(true);
    expect(answer.text).not.toContain(PAT);
  });

  it("a token without the permission fails github.runners:<repo> (403) and names the permission", async () => {
    const setup = deployment("pat-403", { GITHUB_TOKEN: PAT, ALLOWED_REPOS: "acme/api" });
    await setup.github.seed({ tokens: [{ token: PAT, permissions: { metadata: "read" } }] });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "github.token").ok).toBe(true);
    const runners = check(answer, "github.runners:acme/api");
    expect(runners).toMatchObject({ ok: false, detail: expect.stringContaining("403") });
    expect(runners.fix).toContain('give GITHUB_TOKEN "Administration: read & write" on acme/api');
    expect(runners.fix).toContain('the classic token scope "repo"');
  });

  it("a repository GitHub does not know fails github.runners:<repo> (404) and points at ALLOWED_REPOS", async () => {
    const setup = deployment("pat-404", { GITHUB_TOKEN: PAT, ALLOWED_REPOS: "acme/api,acme/web" });
    await setup.github.seed({ repositories: ["acme/web"] });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "github.runners:acme/web").ok).toBe(true);
    const missing = check(answer, "github.runners:acme/api");
    expect(missing).toMatchObject({ ok: false, detail: expect.stringContaining("404") });
    expect(missing.fix).toContain("check acme/api in ALLOWED_REPOS");
  });

  it("without a repository in ALLOWED_REPOS, proves the token alone and says what to add", async () => {
    for (const allowed of ["", "acme/*"]) {
      const setup = deployment("pat-nothing", { GITHUB_TOKEN: PAT, ALLOWED_REPOS: allowed });
      const answer = await healthApp().deep(setup.env);
      expect(answer.status).toBe(200);
      expect(names(answer)).toEqual(["config", "github.token", "modal.auth", "modal.app"]);
      expect(check(answer, "github.token").detail).toContain("GitHub accepts GITHUB_TOKEN, a classic token;");
      expect(check(answer, "github.token").detail).toContain(
        "only the credential itself was checked: add the owner/repo entries",
      );
      expect((await setup.github.requests()).map((request) => request.route)).toEqual(["GET /rate_limit"]);
    }
  });

  it("with RUNNER_SCOPE=org, checks each owner's organization runners", async () => {
    const setup = deployment("pat-org", {
      GITHUB_TOKEN: PAT,
      RUNNER_SCOPE: "org",
      ALLOWED_REPOS: "acme/api,acme/web,other/*",
    });
    await setup.github.seed({
      tokens: [
        { token: PAT, permissions: { administration: "write", organization_self_hosted_runners: "read" } },
      ],
      organizations: ["acme"],
    });
    const answer = await healthApp().deep(setup.env);
    expect(names(answer).filter((name) => name.startsWith("github."))).toEqual([
      "github.token",
      "github.runners:acme",
      "github.runners:other",
    ]);
    expect(check(answer, "github.runners:acme")).toMatchObject({
      ok: true,
      detail: expect.stringContaining("lists the runners of org acme"),
    });
    expect(check(answer, "github.runners:other")).toMatchObject({
      ok: false,
      fix: expect.stringContaining("other must be an organization"),
    });
    expect((await setup.github.requests()).map((request) => request.path)).toContain(
      "/orgs/acme/actions/runners?per_page=1",
    );
  });

  it("a fine-grained token that can read runners passes, and says that writing is not proven", async () => {
    const setup = deployment("pat-fine", { GITHUB_TOKEN: FINE_GRAINED, ALLOWED_REPOS: "acme/api" });
    await setup.github.seed({ tokens: [{ token: FINE_GRAINED, permissions: { administration: "read" } }] });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(200);
    expect(check(answer, "github.token").detail).toContain("a fine-grained token");
    expect(check(answer, "github.runners:acme/api").detail).toContain(
      `"Administration" (a repository permission): read at least; registering needs read & write`,
    );
  });

  it("a rate limit fails the check it hit, and says to wait", async () => {
    const setup = deployment("pat-limited", { GITHUB_TOKEN: PAT, ALLOWED_REPOS: "acme/api" });
    await setup.github.fail({ route: RUNNERS, status: 429, retryAfter: 30 });
    const answer = await healthApp().deep(setup.env);
    expect(check(answer, "github.runners:acme/api")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("retry in 30s"),
      fix: expect.stringContaining("rate-limits this credential"),
    });
  });
});
