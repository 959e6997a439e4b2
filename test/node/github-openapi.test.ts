/**
 * Holds our GitHub client and the GitHub emulator to GitHub's published OpenAPI description, so that neither can
 * drift from GitHub: what the client sends for a JIT config must be a valid request body, every emulator answer
 * must be a valid response of its operation, and the emulator must accept and refuse JIT bodies exactly where the
 * schema does. Likewise for the check run the client posts for a refused job.
 */
import { generateKeyPairSync } from "node:crypto";
import { emitterEventNames } from "@octokit/webhooks";
import { beforeAll, describe, expect, inject, it } from "vitest";
import * as z from "zod/mini";
import { createGitHubClient } from "../../src/github/client.ts";
import { createLogger } from "../../src/log.ts";
import { githubEmulator } from "../emulators/github/control-client.ts";
import { APP_PERMISSION_LEVELS, WEBHOOK_EVENTS } from "../emulators/github/manifest-rules.ts";
import { ROUTES } from "../emulators/github/routes.ts";
import { HEAD_SHA } from "../emulators/github/runs.ts";
import { loadOpenApi, type OpenApi } from "./openapi.ts";
import { appJwt, appKeys } from "./support/github.ts";

const JIT_REPO = "/repos/{owner}/{repo}/actions/runners/generate-jitconfig";
const JIT_ORG = "/orgs/{org}/actions/runners/generate-jitconfig";
const PAT = "ghp_0123456789abcdefABCDEF0123456789abcd";
const UA = {
  "user-agent": "openapi-test",
  authorization: `Bearer ${PAT}`,
  "content-type": "application/json",
};

let github: OpenApi;
let ghes: OpenApi;
let counter = 0;
const emulator = (label: string) =>
  githubEmulator(inject("githubEmulatorUrl"), `openapi-${label}-${++counter}`);

beforeAll(() => {
  github = loadOpenApi("api.github.com.json");
  ghes = loadOpenApi("ghes-3.17.json");
});

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = UA,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? undefined : JSON.parse(text),
    headers: response.headers,
  };
}

function expectValidResponse(
  method: string,
  template: string,
  status: number,
  body: unknown,
  description: OpenApi = github,
) {
  const schema = description.responseSchema(method, template, status);
  if (schema === undefined) {
    expect(body).toBeUndefined();
    return;
  }
  expect(description.validate(schema, body), `${method} ${template} ${status}`).toEqual([]);
}

/** For both descriptions: github.com and GHES 3.17. */
function expectValidOnBoth(method: string, template: string, status: number, body: unknown) {
  expectValidResponse(method, template, status, body, github);
  expectValidResponse(method, template, status, body, ghes);
}

/**
 * For answers GitHub gives but its description does not list for the operation (404s of the delivery and
 * installation lookups, 401s of App-only endpoints, a secondary-limit 403): GitHub's shared error schemas.
 */
function expectComponent(name: "basic-error" | "validation-error", body: unknown) {
  expect(github.validate({ $ref: `#/components/schemas/${name}` }, body), name).toEqual([]);
}

describe("what the client sends", () => {
  it.each([
    { scope: { kind: "repo", owner: "octo-org", repo: "hello" } as const, template: JIT_REPO },
    { scope: { kind: "org", org: "octo-org" } as const, template: JIT_ORG },
  ])("its JIT request body is valid for $template", async ({ scope, template }) => {
    const ns = emulator("client-body");
    const client = createGitHubClient({
      baseUrl: ns.url,
      auth: { kind: "token", token: PAT },
      fetch,
      now: Date.now,
      logger: createLogger({ sink: () => {} }),
    });
    await client.generateJitConfig({
      scope,
      name: "modal-1",
      labels: ["self-hosted", "modal"],
      runnerGroupId: 1,
    });
    await client.generateJitConfig({
      scope,
      name: "modal-2",
      labels: ["self-hosted"],
      runnerGroupId: 1,
      workFolder: "_work",
    });

    const bodies = (await ns.requests()).map((request) => request.body);
    expect(bodies).toHaveLength(2);
    for (const body of bodies)
      expect(github.validate(github.requestSchema("POST", template), body)).toEqual([]);
    // The original deployment sent `work_directory`, which is not GitHub's field.
    expect(JSON.stringify(bodies)).not.toContain("work_directory");
  });
});

describe("what the emulator answers", () => {
  it("every route it serves is an operation of GitHub's REST API (github.com and GHES 3.17)", () => {
    for (const route of ROUTES) {
      expect(github.hasOperation(route.method, route.template), `${route.method} ${route.template}`).toBe(
        true,
      );
      expect(ghes.hasOperation(route.method, route.template), `GHES ${route.method} ${route.template}`).toBe(
        true,
      );
    }
    // GHES takes the same JIT body as github.com.
    expect(ghes.requestSchema("POST", JIT_REPO)).toEqual(github.requestSchema("POST", JIT_REPO));
  });

  it("runner endpoints answer in GitHub's shapes, for both scopes", async () => {
    const ns = emulator("runner-shapes");
    await ns.seed({ runnerGroups: [1, 3] });
    for (const prefix of ["/repos/octo-org/hello", "/orgs/octo-org"]) {
      const jit = prefix.startsWith("/repos") ? JIT_REPO : JIT_ORG;
      const list = jit.replace("/generate-jitconfig", "");
      const one = `${list}/{runner_id}`;
      const body = { name: "shape-1", runner_group_id: 1, labels: ["self-hosted", "X64", "gpu"] };

      const created = await call(ns.url, "POST", `${prefix}/actions/runners/generate-jitconfig`, body);
      expect(created.status).toBe(201);
      expectValidResponse("POST", jit, 201, created.body);
      expect(created.body).toMatchObject({
        runner: {
          name: "shape-1",
          status: "offline",
          busy: false,
          labels: [
            { name: "self-hosted", type: "read-only" },
            { name: "X64", type: "read-only" },
            { name: "gpu", type: "custom" },
          ],
        },
      });

      const conflict = await call(ns.url, "POST", `${prefix}/actions/runners/generate-jitconfig`, body);
      expect(conflict.status).toBe(409);
      expectValidResponse("POST", jit, 409, conflict.body);
      expect(conflict.body).toMatchObject({
        message: "Already exists - A runner with the name shape-1 already exists.",
      });

      const badGroup = await call(ns.url, "POST", `${prefix}/actions/runners/generate-jitconfig`, {
        ...body,
        name: "shape-2",
        runner_group_id: 99,
      });
      expect(badGroup.status).toBe(422);
      expectValidResponse("POST", jit, 422, badGroup.body);

      const listed = await call(ns.url, "GET", `${prefix}/actions/runners?per_page=1`);
      expectValidResponse("GET", list, 200, listed.body);

      const runnerId = (await ns.runners()).find((runner) => runner.name === "shape-1")?.id ?? 0;
      await ns.updateRunner(runnerId, { busy: true });
      const fetched = await call(ns.url, "GET", `${prefix}/actions/runners/${runnerId}`);
      expectValidResponse("GET", one, 200, fetched.body);
      expect(fetched.body).toMatchObject({ status: "online", busy: true, version: "2.334.0" });

      const busy = await call(ns.url, "DELETE", `${prefix}/actions/runners/${runnerId}`);
      expect(busy.status).toBe(422);
      expectValidResponse("DELETE", one, 422, busy.body);
      await ns.updateRunner(runnerId, { busy: false });
      const deleted = await call(ns.url, "DELETE", `${prefix}/actions/runners/${runnerId}`);
      expect(deleted.status).toBe(204);
      expectValidResponse("DELETE", one, 204, deleted.body);
    }

    const missing = await call(
      ns.url,
      "POST",
      "/orgs/octo-org/actions/runners/generate-jitconfig",
      "not an object",
    );
    expect(missing.status).toBe(422);
  });

  it("pages runner lists with per_page, page and a Link header", async () => {
    const ns = emulator("pages");
    await ns.seed({
      runners: Array.from({ length: 5 }, (_, i) => ({ repository: "octo-org/hello", name: `modal-${i}` })),
    });
    const first = await call(ns.url, "GET", "/repos/octo-org/hello/actions/runners?per_page=2");
    expect(first.body).toMatchObject({ total_count: 5, runners: [{ name: "modal-0" }, { name: "modal-1" }] });
    expect(first.headers.get("link")).toBe(
      `<${ns.url}/repos/octo-org/hello/actions/runners?per_page=2&page=2>; rel="next", <${ns.url}/repos/octo-org/hello/actions/runners?per_page=2&page=3>; rel="last"`,
    );
    const last = await call(ns.url, "GET", "/repos/octo-org/hello/actions/runners?per_page=2&page=3");
    expect(last.body).toMatchObject({ total_count: 5, runners: [{ name: "modal-4" }] });
    expect(last.headers.get("link")).toContain('rel="prev"');
    expect(last.headers.get("link")).not.toContain('rel="next"');
    const named = await call(ns.url, "GET", "/repos/octo-org/hello/actions/runners?name=modal-3");
    expect(named.body).toMatchObject({ total_count: 1, runners: [{ name: "modal-3" }] });
    const capped = await call(ns.url, "GET", "/repos/octo-org/hello/actions/runners?per_page=500");
    expect(capped.headers.get("link")).toBeNull();
  });

  it("jobs, releases, installation tokens and errors answer in GitHub's shapes", async () => {
    const ns = emulator("other-shapes");
    const { publicKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    await ns.seed({
      repositories: ["octo-org/hello"],
      apps: [{ id: 1, publicKey }],
      installations: [{ id: 5, appId: 1, account: "octo-org" }],
      jobs: [
        { id: 10, repository: "octo-org/hello", status: "queued" },
        { id: 11, repository: "octo-org/hello", status: "completed", conclusion: "cancelled" },
      ],
    });

    for (const id of [10, 11]) {
      const job = await call(ns.url, "GET", `/repos/octo-org/hello/actions/jobs/${id}`);
      expect(job.status).toBe(200);
      expectValidResponse("GET", "/repos/{owner}/{repo}/actions/jobs/{job_id}", 200, job.body);
    }
    const release = await call(ns.url, "GET", "/repos/actions/runner/releases/latest");
    expectValidResponse("GET", "/repos/{owner}/{repo}/releases/latest", 200, release.body);
    const noRelease = await call(ns.url, "GET", "/repos/octo-org/hello/releases/latest");
    expect(noRelease.status).toBe(404);
    expectValidResponse("GET", "/repos/{owner}/{repo}/releases/latest", 404, noRelease.body);
    const notFound = await call(
      ns.url,
      "POST",
      "/repos/octo-org/missing/actions/runners/generate-jitconfig",
      {
        name: "x",
        runner_group_id: 1,
        labels: ["a"],
      },
    );
    expect(notFound.status).toBe(404);
    expectValidResponse("POST", JIT_REPO, 404, notFound.body);

    const tokens = "/app/installations/{installation_id}/access_tokens";
    const unauthenticated = await call(ns.url, "POST", "/app/installations/5/access_tokens", undefined);
    expect(unauthenticated.status).toBe(401);
    expectValidResponse("POST", tokens, 401, unauthenticated.body);
  });

  it("accepts and refuses JIT bodies exactly where GitHub's schema does", async () => {
    const ns = emulator("jit-validation");
    const schema = github.requestSchema("POST", JIT_REPO);
    const labels101 = Array.from({ length: 101 }, (_, i) => `l${i}`);
    const candidates: unknown[] = [
      { name: "a", runner_group_id: 1, labels: ["self-hosted"] },
      { name: "b", runner_group_id: 1, labels: ["self-hosted"], work_folder: "_work" },
      { name: "c", runner_group_id: 1, labels: ["self-hosted"], work_directory: "/tmp/w" },
      { name: "d", runner_group_id: 1, labels: Array.from({ length: 100 }, (_, i) => `l${i}`) },
      { runner_group_id: 1, labels: ["x"] },
      { name: "e", labels: ["x"] },
      { name: "f", runner_group_id: 1 },
      { name: "g", runner_group_id: "1", labels: ["x"] },
      { name: "h", runner_group_id: 1.5, labels: ["x"] },
      { name: 7, runner_group_id: 1, labels: ["x"] },
      { name: "i", runner_group_id: 1, labels: [] },
      { name: "j", runner_group_id: 1, labels: labels101 },
      { name: "k", runner_group_id: 1, labels: [1] },
      { name: "l", runner_group_id: 1, labels: "self-hosted" },
      { name: "m", runner_group_id: 1, labels: ["x"], work_folder: 3 },
    ];
    for (const body of candidates) {
      const valid = github.validate(schema, body).length === 0;
      const answer = await call(
        ns.url,
        "POST",
        "/repos/octo-org/hello/actions/runners/generate-jitconfig",
        body,
      );
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(valid ? 201 : 422);
      if (!valid) expectValidResponse("POST", JIT_REPO, 422, answer.body);
    }
  });
});

describe("what the emulator answers for runs, installations, hooks and manifests", () => {
  const auth = { ...UA };
  const RUNS = "/repos/{owner}/{repo}/actions/runs";
  const RUN_JOBS = "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs";

  it("runs and a run's jobs, for organizations and users, public and private", async () => {
    const ns = emulator("runs");
    await ns.seed({
      repositoryMetadata: [{ repository: "mona/site", private: false, ownerType: "User" }],
      jobs: [
        { id: 1, repository: "octo-org/hello", runId: 70, status: "completed", conclusion: "success" },
        {
          id: 2,
          repository: "octo-org/hello",
          runId: 70,
          runAttempt: 2,
          status: "in_progress",
          runnerId: 3,
          runnerName: "r",
        },
        { id: 3, repository: "mona/site", runId: 71 },
      ],
    });
    for (const repo of ["octo-org/hello", "mona/site"]) {
      const runs = await call(ns.url, "GET", `/repos/${repo}/actions/runs`, undefined, auth);
      expect(runs.status).toBe(200);
      expectValidOnBoth("GET", RUNS, 200, runs.body);
    }
    const jobs = await call(
      ns.url,
      "GET",
      "/repos/octo-org/hello/actions/runs/70/jobs?filter=all",
      undefined,
      auth,
    );
    expectValidOnBoth("GET", RUN_JOBS, 200, jobs.body);
    expect(jobs.body).toMatchObject({ total_count: 2 });
    const invalid = await call(
      ns.url,
      "GET",
      "/repos/octo-org/hello/actions/runs?status=stuck",
      undefined,
      auth,
    );
    expect(invalid.status).toBe(422);
    expectComponent("validation-error", invalid.body);
    const missing = await call(ns.url, "GET", "/repos/octo-org/hello/actions/runs/99/jobs", undefined, auth);
    expectComponent("basic-error", missing.body);
  });

  it("installations, and the App-only refusal", async () => {
    const ns = emulator("installations");
    const { publicKey, privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    await ns.seed({
      apps: [{ id: 3, clientId: "Iv23liShapes", publicKey }],
      installations: [{ id: 30, appId: 3, account: "octo-org", permissions: { actions: "read" } }],
    });
    const jwt = { ...UA, authorization: `Bearer ${appJwt(privateKey, 3)}` };
    const repo = await call(ns.url, "GET", "/repos/octo-org/hello/installation", undefined, jwt);
    expect(repo.status).toBe(200);
    expectValidOnBoth("GET", "/repos/{owner}/{repo}/installation", 200, repo.body);
    const org = await call(ns.url, "GET", "/orgs/octo-org/installation", undefined, jwt);
    expectValidOnBoth("GET", "/orgs/{org}/installation", 200, org.body);
    const none = await call(ns.url, "GET", "/repos/elsewhere/hello/installation", undefined, jwt);
    expect(none.status).toBe(404);
    expectValidResponse("GET", "/repos/{owner}/{repo}/installation", 404, none.body);
    const pat = await call(ns.url, "GET", "/orgs/octo-org/installation", undefined, auth);
    expect(pat.status).toBe(401);
    expectComponent("basic-error", pat.body);
  });

  it("the App itself to its JWT, and the refusal of anything else", async () => {
    const ns = emulator("app");
    const { publicKey, privateKey } = appKeys();
    await ns.seed({
      apps: [
        { id: 4, clientId: "Iv23liItself", publicKey },
        { id: 5, publicKey },
      ],
      installations: [{ id: 40, appId: 4, account: "octo-org" }],
    });
    for (const id of [4, 5]) {
      const jwt = { ...UA, authorization: `Bearer ${appJwt(privateKey, id)}` };
      const app = await call(ns.url, "GET", "/app", undefined, jwt);
      expect(app.status).toBe(200);
      expectValidOnBoth("GET", "/app", 200, app.body);
      expect(app.body).toMatchObject({ id, installations_count: id === 4 ? 1 : 0 });
    }
    const pat = await call(ns.url, "GET", "/app", undefined, auth);
    expect(pat.status).toBe(401);
    expectComponent("basic-error", pat.body);
  });

  it("the rate limit, to any caller, without spending the hourly budget", async () => {
    const ns = emulator("rate-limit");
    await ns.seed({ rateLimit: { limit: 5000, remaining: 1 } });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await call(ns.url, "GET", "/rate_limit", undefined, auth));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expectValidOnBoth("GET", "/rate_limit", 200, answer.body);
      expect(answer.body).toMatchObject({ resources: { core: { limit: 5000, remaining: 1, used: 4999 } } });
    }
    // The one call left is still there for a route that spends it.
    const runners = await call(ns.url, "GET", "/repos/octo-org/hello/actions/runners");
    expect(runners.status).toBe(200);
    expect((await call(ns.url, "GET", "/rate_limit", undefined, auth)).body).toMatchObject({
      resources: { core: { remaining: 0 } },
    });
    const anonymous = await call(ns.url, "GET", "/rate_limit", undefined, { "user-agent": "openapi-test" });
    expect(anonymous.status).toBe(200);
    const bad = await call(ns.url, "GET", "/rate_limit", undefined, { ...UA, authorization: "token nope" });
    expect(bad.status).toBe(401);
    expectComponent("basic-error", bad.body);
  });

  it("hook deliveries of repository, organization and App hooks; redelivery; their refusals", async () => {
    const ns = emulator("deliveries");
    const { publicKey, privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    await ns.seed({ apps: [{ id: 4, publicKey }] });
    const jwt = { ...UA, authorization: `Bearer ${appJwt(privateKey, 4)}` };
    const hooks = [
      {
        id: await ns.createHook({ kind: "repository", repository: "octo-org/hello" }),
        path: (id: number) => `/repos/octo-org/hello/hooks/${id}/deliveries`,
        template: "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries",
        headers: auth,
      },
      {
        id: await ns.createHook({ kind: "organization", organization: "octo-org" }),
        path: (id: number) => `/orgs/octo-org/hooks/${id}/deliveries`,
        template: "/orgs/{org}/hooks/{hook_id}/deliveries",
        headers: auth,
      },
      {
        id: await ns.createHook({ kind: "app", appId: 4 }),
        path: () => "/app/hook/deliveries",
        template: "/app/hook/deliveries",
        headers: jwt,
      },
    ];
    for (const hook of hooks) {
      const sent = await ns.sendDelivery(hook.id, {
        event: "workflow_job",
        payload: { action: "queued", installation: { id: 1 }, repository: { id: 2 } },
      });
      await ns.sendDelivery(hook.id, { event: "ping", payload: {}, statusCode: 200 });
      const list = await call(ns.url, "GET", `${hook.path(hook.id)}?per_page=1`, undefined, hook.headers);
      expect(list.status).toBe(200);
      expect(list.headers.get("link")).toContain('rel="next"');
      expectValidOnBoth("GET", hook.template, 200, list.body);
      const one = await call(ns.url, "GET", `${hook.path(hook.id)}/${sent.id}`, undefined, hook.headers);
      expectValidOnBoth("GET", `${hook.template}/{delivery_id}`, 200, one.body);
      const attempt = await call(
        ns.url,
        "POST",
        `${hook.path(hook.id)}/${sent.id}/attempts`,
        undefined,
        hook.headers,
      );
      expect(attempt.status).toBe(202);
      expectValidOnBoth("POST", `${hook.template}/{delivery_id}/attempts`, 202, attempt.body);
      const badCursor = await call(ns.url, "GET", `${hook.path(hook.id)}?cursor=x`, undefined, hook.headers);
      expectValidResponse("GET", hook.template, 400, badCursor.body);
      const badStatus = await call(ns.url, "GET", `${hook.path(hook.id)}?status=ok`, undefined, hook.headers);
      expectValidResponse("GET", hook.template, 422, badStatus.body);
      const missing = await call(ns.url, "GET", `${hook.path(hook.id)}/1`, undefined, hook.headers);
      expect(missing.status).toBe(404);
      expectComponent("basic-error", missing.body);
    }
    await ns.settleDeliveries();
    const refused = await call(ns.url, "GET", "/app/hook/deliveries", undefined, auth);
    expect(refused.status).toBe(401);
    expectComponent("basic-error", refused.body);
  });

  it("manifest conversions, the App they made, and a code that is gone", async () => {
    const ns = emulator("manifest");
    const answer = await ns.submitManifest({
      org: "octo-org",
      manifest: {
        name: "Shape Check",
        url: "https://example.com",
        hook_attributes: { url: "https://example.com/hook" },
        redirect_url: "https://example.com/done",
        default_permissions: { administration: "write" },
        default_events: ["workflow_job"],
      },
    });
    const template = "/app-manifests/{code}/conversions";
    const converted = await call(ns.url, "POST", `/app-manifests/${answer.code}/conversions`, undefined, {
      "user-agent": "openapi-test",
    });
    expect(converted.status).toBe(201);
    expectValidOnBoth("POST", template, 201, converted.body);
    const { id, pem } = z.object({ id: z.int(), pem: z.string() }).parse(converted.body);
    const self = await call(ns.url, "GET", "/app", undefined, {
      "user-agent": "openapi-test",
      authorization: `Bearer ${appJwt(pem, id)}`,
    });
    expect(self.status).toBe(200);
    expectValidOnBoth("GET", "/app", 200, self.body);
    const refused = await call(ns.url, "GET", "/app", undefined, UA);
    expect(refused.status).toBe(401);
    expectComponent("basic-error", refused.body);
    const again = await call(ns.url, "POST", `/app-manifests/${answer.code}/conversions`, undefined, {
      "user-agent": "openapi-test",
    });
    expect(again.status).toBe(404);
    expectValidResponse("POST", template, 404, again.body);
  });

  it("a secondary-limit refusal is GitHub's error shape", async () => {
    const ns = emulator("secondary");
    await ns.seed({ secondaryRateLimit: { limit: 0, windowSeconds: 60, retryAfterSeconds: 60 } });
    const refused = await call(ns.url, "POST", "/orgs/octo-org/actions/runners/generate-jitconfig", {
      name: "x",
      runner_group_id: 1,
      labels: ["self-hosted"],
    });
    expect(refused.status).toBe(403);
    expectComponent("basic-error", refused.body);
  });

  it("knows GitHub's App permissions and webhook events, no more and no fewer", () => {
    const levels = (description: OpenApi) => {
      const schemas = description.document.components;
      const permissions =
        typeof schemas === "object" && schemas !== null && !Array.isArray(schemas)
          ? schemas.schemas
          : undefined;
      const appPermissions =
        typeof permissions === "object" && permissions !== null && !Array.isArray(permissions)
          ? permissions["app-permissions"]
          : undefined;
      const properties =
        typeof appPermissions === "object" && appPermissions !== null && !Array.isArray(appPermissions)
          ? appPermissions.properties
          : undefined;
      const entries =
        typeof properties === "object" && properties !== null && !Array.isArray(properties)
          ? Object.entries(properties)
          : [];
      return entries.map(([name, property]) => {
        const values =
          typeof property === "object" && property !== null && !Array.isArray(property)
            ? property.enum
            : undefined;
        return [name, Array.isArray(values) ? values : []] as const;
      });
    };
    expect(Object.fromEntries([...levels(ghes), ...levels(github)])).toEqual(APP_PERMISSION_LEVELS);
    expect([...WEBHOOK_EVENTS].sort()).toEqual(
      emitterEventNames.filter((name) => !name.includes(".")).sort(),
    );
  });
});

describe("check runs", () => {
  const CHECK_RUNS = "/repos/{owner}/{repo}/check-runs";

  /** An installation (`permissions`) on octo-org with a run on octo-org/hello; headers with its token. */
  async function installed(label: string, permissions: Record<string, "read" | "write">) {
    const ns = emulator(label);
    const { publicKey, privateKey } = appKeys();
    await ns.seed({
      apps: [{ id: 5, publicKey }],
      installations: [{ id: 50, appId: 5, account: "octo-org", permissions }],
      jobs: [{ id: 501, repository: "octo-org/hello", runId: 601 }],
    });
    const jwt = { ...UA, authorization: `Bearer ${appJwt(privateKey, 5)}` };
    const issued = await call(ns.url, "POST", "/app/installations/50/access_tokens", {}, jwt);
    const { token } = z.object({ token: z.string() }).parse(issued.body);
    return { ns, privateKey, headers: { ...UA, authorization: `token ${token}` } };
  }

  it("the client's body is valid on github.com and GHES, and so is the emulator's answer", async () => {
    const { ns, privateKey } = await installed("check-run-client", { checks: "write" });
    const client = createGitHubClient({
      baseUrl: ns.url,
      auth: { kind: "app", appId: "5", privateKey, installationId: 50 },
      fetch,
      now: Date.now,
      logger: createLogger({ sink: () => {} }),
    });
    const request = {
      owner: "octo-org",
      repo: "hello",
      name: "actions-on-modal",
      headSha: HEAD_SHA,
      externalId: "501",
      title: "Sandbox size not allowed: modal-gpu-h100",
      summary: "Add `H100` to `ALLOWED_GPUS` to allow it.",
    };
    await client.createCheckRun(request);
    await client.createCheckRun({ ...request, text: "details" });
    const bodies = (await ns.requests())
      .filter((recorded) => recorded.route === `POST ${CHECK_RUNS}`)
      .map((recorded) => recorded.body);
    expect(bodies).toHaveLength(2);
    for (const body of bodies) {
      expect(github.validate(github.requestSchema("POST", CHECK_RUNS), body)).toEqual([]);
      expect(ghes.validate(ghes.requestSchema("POST", CHECK_RUNS), body)).toEqual([]);
    }
  });

  it("answers and refuses in GitHub's shapes", async () => {
    const { ns, headers } = await installed("check-run-shapes", { checks: "write" });
    const body = {
      name: "n",
      head_sha: HEAD_SHA,
      status: "completed",
      conclusion: "failure",
      output: { title: "t", summary: "s" },
    };
    const created = await call(ns.url, "POST", "/repos/octo-org/hello/check-runs", body, headers);
    expect(created.status).toBe(201);
    expectValidOnBoth("POST", CHECK_RUNS, 201, created.body);
    const unknownSha = await call(
      ns.url,
      "POST",
      "/repos/octo-org/hello/check-runs",
      { ...body, head_sha: "b".repeat(40) },
      headers,
    );
    expect(unknownSha.status).toBe(422);
    expectComponent("basic-error", unknownSha.body);
    const noConclusion = await call(
      ns.url,
      "POST",
      "/repos/octo-org/hello/check-runs",
      { name: "n", head_sha: HEAD_SHA, status: "completed" },
      headers,
    );
    expect(noConclusion.status).toBe(422);
    const pat = await call(ns.url, "POST", "/repos/octo-org/hello/check-runs", body, UA);
    expect(pat.status).toBe(403);
    expectComponent("basic-error", pat.body);

    const readOnly = await installed("check-run-read", { checks: "read" });
    const denied = await call(
      readOnly.ns.url,
      "POST",
      "/repos/octo-org/hello/check-runs",
      body,
      readOnly.headers,
    );
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ message: "Resource not accessible by integration" });
    expectComponent("basic-error", denied.body);
  });

  it("accepts and refuses check-run bodies where GitHub's schema does", async () => {
    const { ns, headers } = await installed("check-run-validation", { checks: "write" });
    const schema = github.requestSchema("POST", CHECK_RUNS);
    const output = { title: "t", summary: "s" };
    const candidates: unknown[] = [
      { name: "a", head_sha: HEAD_SHA },
      { name: "b", head_sha: HEAD_SHA, status: "in_progress", external_id: "7" },
      { name: "c", head_sha: HEAD_SHA, conclusion: "failure", output: { ...output, text: "x" } },
      {
        name: "d",
        head_sha: HEAD_SHA,
        conclusion: "neutral",
        output: { ...output, summary: "s".repeat(65_535) },
      },
      { head_sha: HEAD_SHA },
      { name: "e" },
      { name: 5, head_sha: HEAD_SHA },
      { name: "f", head_sha: HEAD_SHA, status: "done" },
      { name: "g", head_sha: HEAD_SHA, conclusion: "failure", output: { title: "t" } },
      {
        name: "h",
        head_sha: HEAD_SHA,
        conclusion: "failure",
        output: { ...output, summary: "s".repeat(65_536) },
      },
      {
        name: "i",
        head_sha: HEAD_SHA,
        conclusion: "failure",
        output: { ...output, text: "x".repeat(65_536) },
      },
      { name: "j", head_sha: HEAD_SHA, conclusion: "failed" },
      { name: "k", head_sha: HEAD_SHA, external_id: 7 },
    ];
    for (const body of candidates) {
      const valid = github.validate(schema, body).length === 0;
      const answer = await call(ns.url, "POST", "/repos/octo-org/hello/check-runs", body, headers);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(valid ? 201 : 422);
      if (!valid) expectComponent("basic-error", answer.body);
    }
  });
});
