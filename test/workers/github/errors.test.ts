import { describe, expect, it } from "vitest";
import { PermanentError, RetryableError } from "../../../src/errors.ts";
import { captureLog, client, emulatorFor, PAT, rejection } from "./helpers.ts";

const repo = { kind: "repo", owner: "octo-org", repo: "hello-world" } as const;
const org = { kind: "org", org: "octo-org" } as const;
const JIT_ROUTE = "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig";
const jit = { scope: repo, name: "modal-1", labels: ["self-hosted", "modal"], runnerGroupId: 1 };

describe("retryable failures", () => {
  it.each([500, 502, 503, 504])("a %i is a retryable server_error", async (status) => {
    const emulator = emulatorFor("error-5xx");
    await emulator.fail({ route: JIT_ROUTE, status });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({
      service: "github",
      operation: "generateJitConfig",
      reason: "server_error",
      status,
    });
  });

  it("passes on a 503's retry-after", async () => {
    const emulator = emulatorFor("error-503-retry-after");
    await emulator.fail({ route: "GET /repos/{owner}/{repo}/actions/runners", status: 503, retryAfter: 12 });
    const error = await rejection(client(emulator).listRunners(repo));
    expect(error).toMatchObject({ reason: "server_error", retryAfterSeconds: 12 });
  });

  it("a dropped connection is a retryable network error", async () => {
    const emulator = emulatorFor("error-network");
    await emulator.fail({ route: JIT_ROUTE, drop: true });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "network", operation: "generateJitConfig" });
  });

  it("a host that does not answer is a retryable network error", async () => {
    const emulator = emulatorFor("error-refused");
    // Port 9 (discard) on loopback: nothing listens there.
    const error = await rejection(client(emulator, { baseUrl: "http://127.0.0.1:9" }).listRunners(repo));
    expect(error).toMatchObject({ retryable: true, reason: "network" });
  });

  it("no answer within the deadline is a retryable timeout", async () => {
    const emulator = emulatorFor("error-timeout");
    await emulator.fail({ route: "GET /repos/{owner}/{repo}/actions/runners", delayMs: 1_000 });
    const started = Date.now();
    const error = await rejection(client(emulator, { timeoutMs: 150 }).getRunnerByName(repo, "modal-1"));
    expect(Date.now() - started).toBeLessThan(900);
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "timeout", operation: "getRunnerByName" });
    expect(String(error)).toContain("150 ms");
  });

  it("a 429 is rate_limited, with GitHub's retry-after", async () => {
    const emulator = emulatorFor("error-429");
    await emulator.fail({ route: JIT_ROUTE, status: 429, retryAfter: 30 });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "rate_limited", status: 429, retryAfterSeconds: 30 });
  });

  it("a 403 with retry-after (a secondary rate limit) is rate_limited", async () => {
    const emulator = emulatorFor("error-403-secondary");
    await emulator.fail({
      route: JIT_ROUTE,
      status: 403,
      retryAfter: 60,
      body: {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      },
    });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toMatchObject({
      retryable: true,
      reason: "rate_limited",
      status: 403,
      retryAfterSeconds: 60,
    });
  });

  it("a 403 that names a secondary rate limit without retry-after waits a minute, as GitHub advises", async () => {
    const emulator = emulatorFor("error-403-secondary-bare");
    await emulator.fail({
      route: JIT_ROUTE,
      status: 403,
      body: { message: "You have exceeded a secondary rate limit and have been temporarily blocked." },
    });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toMatchObject({ retryable: true, reason: "rate_limited", retryAfterSeconds: 60 });
  });

  it("an exhausted hourly limit (x-ratelimit-remaining: 0) waits until x-ratelimit-reset", async () => {
    const emulator = emulatorFor("error-primary");
    await emulator.seed({ rateLimit: { limit: 5000, remaining: 1, resetInSeconds: 1800 } });
    const now = Date.now();
    const github = client(emulator, { now: () => now });
    await github.listRunners(repo);
    const error = await rejection(github.generateJitConfig(jit));

    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "rate_limited", status: 403 });
    const wait = error instanceof RetryableError ? (error.retryAfterSeconds ?? 0) : 0;
    expect(wait).toBeGreaterThan(1790);
    expect(wait).toBeLessThanOrEqual(1801);
    const [, refused] = await emulator.requests();
    expect(refused?.status).toBe(403);
  });

  it("every answer carries GitHub's rate-limit headers, counting down", async () => {
    const emulator = emulatorFor("error-ratelimit-headers");
    const response = await fetch(`${emulator.url}/repos/octo-org/hello-world/actions/runners`, {
      headers: { authorization: `Bearer ${PAT}`, "user-agent": "test" },
    });
    const second = await fetch(`${emulator.url}/repos/octo-org/hello-world/actions/runners`, {
      headers: { authorization: `Bearer ${PAT}`, "user-agent": "test" },
    });
    expect(response.headers.get("x-ratelimit-limit")).toBe("5000");
    expect(response.headers.get("x-ratelimit-remaining")).toBe("4999");
    expect(second.headers.get("x-ratelimit-remaining")).toBe("4998");
    expect(Number(response.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
  });

  it("a 2xx whose body is not GitHub's shape is a retryable bad_response that does not quote the body", async () => {
    const emulator = emulatorFor("error-bad-response");
    await emulator.fail({
      route: JIT_ROUTE,
      status: 201,
      body: { runner: { id: "seven" }, encoded_jit_config: "c2VjcmV0LWppdC1jb25maWctdmFsdWU=" },
    });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toMatchObject({ retryable: true, reason: "bad_response", operation: "generateJitConfig" });
    expect(String(error)).not.toContain("c2VjcmV0");
  });
});

describe("permanent failures say what to check", () => {
  it("401: the token", async () => {
    const emulator = emulatorFor("error-401");
    await emulator.seed({ tokens: [{ token: "ghp_someoneelsestoken0000000000000000000" }] });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "unauthenticated", status: 401 });
    expect(String(error)).toContain("Bad credentials");
    expect(String(error)).toContain("GITHUB_TOKEN");
    expect(String(error)).not.toContain(PAT);
  });

  it("403 on a repository: Administration: read & write", async () => {
    const emulator = emulatorFor("error-403-repo");
    await emulator.seed({ tokens: [{ token: PAT, permissions: { actions: "read" } }] });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toMatchObject({ retryable: false, reason: "forbidden", status: 403 });
    expect(String(error)).toContain('"Administration: read & write" on octo-org/hello-world');
    expect(String(error)).toContain("Resource not accessible by personal access token");
  });

  it("403 on an organization: Self-hosted runners: read & write", async () => {
    const emulator = emulatorFor("error-403-org");
    await emulator.seed({ tokens: [{ token: PAT, permissions: { administration: "write" } }] });
    const error = await rejection(client(emulator).generateJitConfig({ ...jit, scope: org }));
    expect(error).toMatchObject({ retryable: false, reason: "forbidden" });
    expect(String(error)).toContain('"Self-hosted runners: read & write" on the organization octo-org');
  });

  it("404: the repository or organization, and access to it", async () => {
    const emulator = emulatorFor("error-404");
    await emulator.seed({ repositories: ["octo-org/hello-world"], organizations: ["octo-org"] });
    const github = client(emulator);
    const missingRepo = await rejection(
      github.generateJitConfig({ ...jit, scope: { kind: "repo", owner: "octo-org", repo: "missing" } }),
    );
    expect(missingRepo).toBeInstanceOf(PermanentError);
    expect(missingRepo).toMatchObject({ reason: "not_found", status: 404 });
    expect(String(missingRepo)).toContain("octo-org/missing exists");
    const missingOrg = await rejection(
      github.generateJitConfig({ ...jit, scope: { kind: "org", org: "nobody" } }),
    );
    expect(missingOrg).toMatchObject({ reason: "not_found" });
    expect(String(missingOrg)).toContain("org nobody");
  });

  it("422: the runner group", async () => {
    const emulator = emulatorFor("error-422");
    const error = await rejection(
      client(emulator).generateJitConfig({ ...jit, scope: org, runnerGroupId: 9 }),
    );
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "invalid_request", status: 422 });
    expect(String(error)).toContain("RUNNER_GROUP_ID (9");
  });

  it("other 4xx are permanent bad_request", async () => {
    const emulator = emulatorFor("error-400");
    await emulator.fail({ route: JIT_ROUTE, status: 400, body: { message: "Problems parsing JSON" } });
    const error = await rejection(client(emulator).generateJitConfig(jit));
    expect(error).toMatchObject({ retryable: false, reason: "bad_request", status: 400 });
  });

  it("logs failures at debug level with their reason, and no secret", async () => {
    const emulator = emulatorFor("error-log");
    await emulator.fail({ route: JIT_ROUTE, status: 502 });
    const log = captureLog();
    const error = await rejection(client(emulator, { logger: log.logger }).generateJitConfig(jit));
    const line = log.lines.find((entry) => entry.includes("github call failed"));
    expect(line).toBeDefined();
    expect(JSON.parse(line ?? "{}")).toMatchObject({
      level: "debug",
      service: "github",
      operation: "generateJitConfig",
      status: 502,
      reason: "server_error",
    });
    expect(log.text([error])).not.toContain(PAT);
  });
});
