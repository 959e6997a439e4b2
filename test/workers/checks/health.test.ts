/**
 * `/healthz?deep=1` as a whole: a healthy deployment passes every check, a run is cached a minute (a second ask
 * calls nothing upstream), no secret value reaches the answer, and the status report shows the last run without
 * ever starting one.
 */
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { check, deployment, healthApp, names } from "./harness.ts";

const STATUS_TOKEN = "status-token-for-the-checks-0123456789";

async function upstreamCalls(setup: ReturnType<typeof deployment>) {
  const [github, modal, launcher] = await Promise.all([
    setup.github.requests(),
    setup.modal.calls(),
    setup.launcher.calls(),
  ]);
  return github.length + modal.length + launcher.length;
}

describe("/healthz?deep=1", () => {
  it("passes every check of a healthy deployment, and names what each proved", async () => {
    const setup = deployment("healthy", { ALLOWED_REPOS: "acme/api,acme/*" });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: true, cached: false });
    expect(names(answer)).toEqual([
      "config",
      "github.token",
      "github.runners:acme/api",
      "modal.auth",
      "modal.app",
    ]);
    expect(answer.body.checks?.every((entry) => entry.ok && entry.fix === undefined)).toBe(true);
    expect(check(answer, "github.runners:acme/api").detail).toContain(
      "GITHUB_TOKEN lists the runners of acme/api (0 registered)",
    );
    expect(check(answer, "modal.app").detail).toContain("actions-on-modal");
    // Nothing was registered or started: reads, and Modal's idempotent AppGetOrCreate.
    expect((await setup.github.requests()).map((request) => request.route)).toEqual([
      "GET /rate_limit",
      "GET /repos/{owner}/{repo}/actions/runners",
    ]);
    expect((await setup.modal.calls()).map((call) => call.method)).toEqual([
      "AuthTokenGet",
      "AppGetOrCreate",
    ]);
  });

  it("keeps a run for a minute: a second ask calls nothing upstream, a later one runs again", async () => {
    const setup = deployment("cache", { ALLOWED_REPOS: "acme/api" });
    let clock = Date.now();
    const health = healthApp({ now: () => clock });
    const first = await health.deep(setup.env);
    const calls = await upstreamCalls(setup);
    expect(calls).toBe(4);

    clock += 59_000;
    const second = await health.deep(setup.env);
    expect(second.body).toMatchObject({ ok: true, cached: true, checkedAt: first.body.checkedAt });
    expect(await upstreamCalls(setup)).toBe(calls);

    clock += 2_000;
    const third = await health.deep(setup.env);
    expect(third.body).toMatchObject({ ok: true, cached: false });
    expect(third.body.checkedAt).not.toBe(first.body.checkedAt);
    expect(await upstreamCalls(setup)).toBe(calls * 2);
  });

  it("shares one run among concurrent asks", async () => {
    const setup = deployment("concurrent", { ALLOWED_REPOS: "acme/api" });
    const health = healthApp();
    const answers = await Promise.all([
      health.deep(setup.env),
      health.deep(setup.env),
      health.deep(setup.env),
    ]);
    expect(answers.map((answer) => answer.body.cached)).toEqual([false, true, true]);
    expect(await upstreamCalls(setup)).toBe(4);
  });

  it("leaves plain /healthz as it was: no upstream call", async () => {
    const setup = deployment("plain");
    const answer = await healthApp().plain(setup.env);
    expect(answer.status).toBe(200);
    expect(answer.body.checks).toBeUndefined();
    expect(await upstreamCalls(setup)).toBe(0);
    for (const off of ["0", "false"]) {
      expect((await healthApp().get(`/healthz?deep=${off}`, setup.env)).body.checks).toBeUndefined();
    }
  });

  it("answers 503 with the configuration check alone when the dispatch variables do not parse", async () => {
    const setup = deployment("config", { MODAL_TOKEN_SECRET: "", RUNNER_VERSION: "2.300.0" });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(names(answer)).toEqual(["config"]);
    expect(check(answer, "config")).toMatchObject({
      ok: false,
      detail:
        "RUNNER_VERSION is older than 2.329.0, the oldest runner GitHub registers: use latest or 2.329.0 or newer; MODAL_TOKEN_SECRET is required",
      fix: 'set RUNNER_VERSION, MODAL_TOKEN_SECRET as the detail says (README.md, "Configuration"); GitHub and Modal are checked once the dispatch variables parse',
    });
    expect(await upstreamCalls(setup)).toBe(0);
  });

  it("puts no secret value in any answer or log line, even when every check fails", async () => {
    const secrets = {
      GITHUB_TOKEN: "ghp_SECRETtokenValue0123456789abcdefXYZ",
      MODAL_TOKEN_ID: "ak-SECRETtokenid0123",
      MODAL_TOKEN_SECRET: "as-SECRETtokensecret0123",
      WEBHOOK_SECRET: "webhook-SECRET-value-0123456789",
      STATUS_TOKEN,
    };
    const setup = deployment("secrets", { ...secrets, ALLOWED_REPOS: "acme/api" });
    await setup.github.seed({ tokens: [{ token: "ghp_theOnlyTokenGitHubKnows0123456789" }] });
    await setup.modal.credentials("ak-another000001", "as-another000001");
    const health = healthApp();
    const answer = await health.deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "github.token").ok).toBe(false);
    expect(check(answer, "modal.auth").ok).toBe(false);
    const launched = deployment(
      "secrets-launcher",
      {
        ...secrets,
        MODAL_PROXY_TOKEN_SECRET: "ws-SECRETproxy0123456",
        LAUNCHER_SECRET: "launcher-SECRET-value-0123456789",
      },
      "launcher",
    );
    const launcherAnswer = await health.deep(launched.env);
    expect(check(launcherAnswer, "modal.launcher").ok).toBe(false);
    const everything = [answer.text, launcherAnswer.text, ...health.lines].join("\n");
    for (const value of [
      ...Object.values(secrets),
      "ws-SECRETproxy0123456",
      "launcher-SECRET-value-0123456789",
    ]) {
      expect(everything).not.toContain(value);
    }
  });
});

describe("the status report", () => {
  const StatusSchema = z.object({
    checks: z.optional(z.object({ ok: z.boolean(), checkedAt: z.string(), checks: z.array(z.unknown()) })),
    config: z.object({ warnings: z.array(z.string()) }),
  });

  it("shows the last deep check from the cache, and never starts one", async () => {
    const setup = deployment("status", { STATUS_TOKEN, ALLOWED_REPOS: "acme/api" });
    const health = healthApp();
    const status = async () => {
      const answer = await health.request("/api/status", setup.env, {
        authorization: `Bearer ${STATUS_TOKEN}`,
      });
      expect(answer.status).toBe(200);
      return StatusSchema.parse(JSON.parse(answer.text));
    };
    expect((await status()).checks).toBeUndefined();
    expect(await upstreamCalls(setup)).toBe(0);

    const deep = await health.deep(setup.env);
    const calls = await upstreamCalls(setup);
    const report = await status();
    expect(report.checks).toEqual({ ok: true, checkedAt: deep.body.checkedAt, checks: deep.body.checks });
    expect(await upstreamCalls(setup)).toBe(calls);
  });
});

describe("the status page", () => {
  it("runs the checks once a minute and puts a failed one, with its fix, above the jobs", async () => {
    const setup = deployment("status-page", { STATUS_TOKEN, ALLOWED_REPOS: "acme/api" });
    await setup.modal.credentials("ak-another000001", "as-another000001");
    const health = healthApp();
    const page = async () => {
      const answer = await health.request("/status", setup.env, {
        authorization: `Bearer ${STATUS_TOKEN}`,
      });
      expect(answer.status).toBe(200);
      return answer.text;
    };
    const first = await page();
    const calls = await upstreamCalls(setup);
    expect(calls).toBeGreaterThan(0);
    const failed = /<tr data-check="modal.auth" class="failed">([\s\S]*?)<\/tr>/.exec(first);
    expect(failed?.[1]).toContain("MODAL_TOKEN_ID");
    expect(first).toMatch(/<tr data-check="github.token" class="ok">/);
    expect(first.indexOf('id="checks-table"')).toBeLessThan(first.indexOf('id="jobs"'));

    const second = await page();
    expect(await upstreamCalls(setup)).toBe(calls);
    expect(second).toContain('data-check="modal.auth" class="failed"');
  });

  it("lists passing checks after the figures, below the jobs", async () => {
    const setup = deployment("status-page-ok", { STATUS_TOKEN, ALLOWED_REPOS: "acme/api" });
    const answer = await healthApp().request("/status", setup.env, {
      authorization: `Bearer ${STATUS_TOKEN}`,
    });
    expect(answer.text).toContain("Every check passed");
    expect(answer.text.indexOf('id="checks-table"')).toBeGreaterThan(answer.text.indexOf('id="jobs"'));
  });
});
