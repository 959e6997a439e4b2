import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import { createApp } from "../../../src/http/app.ts";
import { withVars } from "../../support/vars.ts";
import { delivery, workflowJob } from "../../support/webhook.ts";

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const config = loadConfig(withVars({ REQUIRED_LABELS: "", ALLOWED_REPOS: "", RUNNER_GROUP_ID: "" }));
    expect(config.problems).toEqual([]);
    expect(config.intake).toMatchObject({
      ok: true,
      value: {
        requiredLabels: ["self-hosted", "modal"],
        allowedRepos: [],
        allowPublicRepos: false,
        maxBodyBytes: 1048576,
      },
    });
    expect(config.dispatch).toMatchObject({
      ok: true,
      value: {
        github: { runnerGroupId: 1, runnerScope: "repo", runnerVersion: "latest" },
        modal: { mode: "direct", appName: "actions-on-modal" },
        runner: { cpu: 2, memoryMiB: 4096, timeoutSeconds: 3600, maxPerOwner: 50 },
      },
    });
  });

  it("derives the API URL from GITHUB_ENTERPRISE_DOMAIN, and lets GITHUB_API_URL win", () => {
    const ghes = loadConfig(withVars({ GITHUB_API_URL: "", GITHUB_ENTERPRISE_DOMAIN: "github.example.com" }));
    expect(ghes.dispatch.ok && ghes.dispatch.value.github.apiUrl).toBe("https://github.example.com/api/v3");
    const dotcom = loadConfig(withVars({ GITHUB_API_URL: "", GITHUB_ENTERPRISE_DOMAIN: "" }));
    expect(dotcom.dispatch.ok && dotcom.dispatch.value.github.apiUrl).toBe("https://api.github.com");
    const explicit = loadConfig(
      withVars({
        GITHUB_API_URL: "https://ghe.internal/api/v3/",
        GITHUB_ENTERPRISE_DOMAIN: "github.example.com",
      }),
    );
    expect(explicit.dispatch.ok && explicit.dispatch.value.github.apiUrl).toBe("https://ghe.internal/api/v3");
  });

  it("parses ALLOWED_REPOS entries, owner/* included", () => {
    const config = loadConfig(withVars({ ALLOWED_REPOS: " acme/api ,acme/*,, o-k/re_po.js " }));
    expect(config.problems).toEqual([]);
    expect(config.intake.ok && config.intake.value.allowedRepos).toEqual([
      { owner: "acme", repo: "api" },
      { owner: "acme", repo: "*" },
      { owner: "o-k", repo: "re_po.js" },
    ]);
  });

  it("names every malformed variable once, without its value", () => {
    const config = loadConfig(
      withVars({
        WEBHOOK_SECRET: "",
        ALLOWED_REPOS: "acme/api,not a repo value",
        RUNNER_GROUP_ID: "one-secret-looking-value",
        ALLOW_PUBLIC_REPOS: "maybe",
        SANDBOX_TIMEOUT_SECONDS: "999999",
        MODAL_TOKEN_SECRET: "",
      }),
    );
    expect(config.problems.map((problem) => problem.variable).sort()).toEqual([
      "ALLOWED_REPOS",
      "ALLOW_PUBLIC_REPOS",
      "MODAL_TOKEN_SECRET",
      "RUNNER_GROUP_ID",
      "SANDBOX_TIMEOUT_SECONDS",
      "WEBHOOK_SECRET",
    ]);
    const text = JSON.stringify(config.problems);
    expect(text).not.toContain("not a repo value");
    expect(text).not.toContain("one-secret-looking-value");
    expect(text).not.toContain("maybe");
  });

  it("takes latest or a pinned runner version GitHub still registers, and refuses an older one", () => {
    const version = (value: string) => {
      const config = loadConfig(withVars({ RUNNER_VERSION: value }));
      return config.dispatch.ok ? config.dispatch.value.github.runnerVersion : config.problems;
    };
    expect(version("")).toBe("latest");
    expect(version("Latest")).toBe("latest");
    expect(version("2.329.0")).toBe("2.329.0");
    expect(version("v2.334.0")).toBe("2.334.0");
    expect(version("3.0.0")).toBe("3.0.0");
    const tooOld = {
      variable: "RUNNER_VERSION",
      message: "is older than 2.329.0, the oldest runner GitHub registers: use latest or 2.329.0 or newer",
    };
    expect(version("2.328.9")).toEqual([tooOld]);
    expect(version("v2.311.0")).toEqual([tooOld]);
    expect(version("1.999.999")).toEqual([tooOld]);
    expect(version("2.3")).toEqual([
      { variable: "RUNNER_VERSION", message: "must be latest or a runner version such as 2.330.0" },
    ]);
  });

  it("accepts a GitHub App instead of a token, and asks for both halves", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----";
    const app = loadConfig(
      withVars({ GITHUB_TOKEN: "", GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY: pem }),
    );
    expect(app.dispatch.ok && app.dispatch.value.github.auth).toMatchObject({ kind: "app", appId: "12345" });
    const half = loadConfig(
      withVars({ GITHUB_TOKEN: "", GITHUB_APP_ID: "12345", GITHUB_APP_PRIVATE_KEY: "" }),
    );
    expect(half.problems).toEqual([
      { variable: "GITHUB_APP_PRIVATE_KEY", message: "is required with GITHUB_APP_ID" },
    ]);
    const none = loadConfig(withVars({ GITHUB_TOKEN: "" }));
    expect(none.problems.map((problem) => problem.variable)).toEqual(["GITHUB_TOKEN"]);
  });
});

describe("a misconfigured Worker", () => {
  const app = createApp({ logSink: () => {} });

  it("answers /healthz with 503 and the names of the problems", async () => {
    const response = await app.fetch(
      new Request("https://w.example/healthz"),
      withVars({ WEBHOOK_SECRET: "", MODAL_TOKEN_ID: "" }),
      createExecutionContext(),
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      ok: false,
      problems: ["WEBHOOK_SECRET is required", "MODAL_TOKEN_ID is required"],
      warnings: ["neither STATUS_TOKEN nor Cloudflare Access is set: the status page and /api are off"],
    });
  });

  it("answers /healthz with 503 for a runner version GitHub would refuse, so jobs wait", async () => {
    const response = await app.fetch(
      new Request("https://w.example/healthz"),
      withVars({ RUNNER_VERSION: "2.328.0" }),
      createExecutionContext(),
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      ok: false,
      problems: [
        "RUNNER_VERSION is older than 2.329.0, the oldest runner GitHub registers: use latest or 2.329.0 or newer",
      ],
    });
  });

  it("answers /webhook with a 500, not a crash, and says nothing of the configuration", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued")));
    const response = await app.fetch(request, withVars({ WEBHOOK_SECRET: "" }), createExecutionContext());
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "webhook is not configured; see /healthz" });
  });

  it("still accepts deliveries when only the dispatch side is missing a credential", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued")));
    const vars = withVars({ MODAL_TOKEN_SECRET: "" });
    const response = await app.fetch(
      request,
      { ...vars, JOBS_QUEUE: env.RECORDED_QUEUE },
      createExecutionContext(),
    );
    expect(response.status).toBe(202);
  });
});

describe("the deployed Worker", () => {
  it("is healthy with the test configuration, and says what it warns about", async () => {
    const response = await exports.default.fetch("https://w.example/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      warnings: [
        "ALLOWED_REPOS is empty: every repository that can reach this webhook may start runners",
        "neither STATUS_TOKEN nor Cloudflare Access is set: the status page and /api are off",
      ],
    });
  });

  it("refuses an unsigned delivery", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued")), { signature: null });
    const response = await exports.default.fetch(request);
    expect(response.status).toBe(401);
  });

  it("answers unknown paths and methods with JSON", async () => {
    expect((await exports.default.fetch("https://w.example/nope")).status).toBe(404);
    const get = await exports.default.fetch("https://w.example/webhook");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});
