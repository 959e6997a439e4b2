import { describe, expect, it } from "vitest";
import { RetryableError } from "../../../src/errors.ts";
import { createGitHubClientFromConfig, releasesBaseUrlFor } from "../../../src/github/from-config.ts";
import { captureLog, client, emulatorFor, PAT, rejection } from "./helpers.ts";

const repo = { kind: "repo", owner: "octo-org", repo: "hello-world" } as const;
const org = { kind: "org", org: "octo-org" } as const;
const LABELS = ["self-hosted", "modal", "gpu"];

describe("generateJitConfig", () => {
  it("registers a repository runner with GitHub's body fields", async () => {
    const emulator = emulatorFor("jit-repo");
    const github = client(emulator);
    const result = await github.generateJitConfig({
      scope: repo,
      name: "modal-42-1",
      labels: LABELS,
      runnerGroupId: 1,
      workFolder: "_work",
    });

    expect(result.kind).toBe("created");
    if (result.kind !== "created") return;
    expect(result.runnerName).toBe("modal-42-1");
    expect(result.encodedJitConfig.length).toBeGreaterThan(20);
    const [runner] = await emulator.runners();
    expect(runner).toMatchObject({
      id: result.runnerId,
      name: "modal-42-1",
      scope: "repo:octo-org/hello-world",
      status: "offline",
      labels: LABELS,
      workFolder: "_work",
    });

    const [request] = await emulator.requests();
    expect(request?.route).toBe("POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig");
    expect(request?.body).toEqual({
      name: "modal-42-1",
      runner_group_id: 1,
      labels: LABELS,
      work_folder: "_work",
    });
    expect(request?.headers).toMatchObject({
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      authorization: "Bearer [redacted]",
    });
  });

  it("registers an organization runner in the configured group, and leaves work_folder to GitHub", async () => {
    const emulator = emulatorFor("jit-org");
    await emulator.seed({ runnerGroups: [1, 7] });
    const result = await client(emulator).generateJitConfig({
      scope: org,
      name: "modal-43-1",
      labels: LABELS,
      runnerGroupId: 7,
    });

    expect(result.kind).toBe("created");
    const [runner] = await emulator.runners();
    expect(runner).toMatchObject({ scope: "org:octo-org", runnerGroupId: 7, workFolder: "_work" });
    const [request] = await emulator.requests();
    expect(request?.route).toBe("POST /orgs/{org}/actions/runners/generate-jitconfig");
    expect(request?.body).toEqual({ name: "modal-43-1", runner_group_id: 7, labels: LABELS });
  });

  it("works against a GitHub Enterprise Server base URL (/api/v3)", async () => {
    const emulator = emulatorFor("jit-ghes");
    const github = client(emulator, { baseUrl: `${emulator.url}/api/v3` });
    const result = await github.generateJitConfig({
      scope: repo,
      name: "ghes-1",
      labels: LABELS,
      runnerGroupId: 1,
    });

    expect(result.kind).toBe("created");
    const requests = await emulator.requests();
    expect(requests.map((request) => request.path)).toEqual([
      "/api/v3/repos/octo-org/hello-world/actions/runners/generate-jitconfig",
    ]);
    expect(await github.getRunnerByName(repo, "ghes-1")).toMatchObject({ name: "ghes-1", status: "offline" });
  });

  it("on 409, removes an offline idle runner of that name and registers again", async () => {
    const emulator = emulatorFor("jit-409-offline");
    await emulator.seed({
      runners: [{ repository: "octo-org/hello-world", name: "modal-44-1", status: "offline" }],
    });
    const [stale] = await emulator.runners();
    const log = captureLog();
    const result = await client(emulator, { logger: log.logger }).generateJitConfig({
      scope: repo,
      name: "modal-44-1",
      labels: LABELS,
      runnerGroupId: 1,
    });

    expect(result.kind).toBe("created");
    if (result.kind !== "created") return;
    expect(result.runnerId).not.toBe(stale?.id);
    const routes = (await emulator.requests()).map((request) => `${request.route} ${request.status}`);
    expect(routes).toEqual([
      "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig 409",
      "GET /repos/{owner}/{repo}/actions/runners 200",
      "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id} 204",
      "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig 201",
    ]);
    const lookup = (await emulator.requests())[1];
    expect(lookup?.path).toContain("name=modal-44-1");
    expect((await emulator.runners()).map((runner) => runner.id)).toEqual([result.runnerId]);
    expect(log.text()).not.toContain(result.encodedJitConfig);
  });

  it.each([
    { label: "online", runner: { status: "online" as const } },
    { label: "busy", runner: { busy: true } },
  ])("on 409, reports an $label runner of that name as already running and leaves it", async ({ runner }) => {
    const emulator = emulatorFor("jit-409-running");
    await emulator.seed({ runners: [{ repository: "octo-org/hello-world", name: "modal-45-1", ...runner }] });
    const [existing] = await emulator.runners();
    const result = await client(emulator).generateJitConfig({
      scope: repo,
      name: "modal-45-1",
      labels: LABELS,
      runnerGroupId: 1,
    });

    expect(result).toEqual({
      kind: "already_running",
      runnerId: existing?.id,
      status: "online",
      busy: runner.busy === true,
    });
    expect(await emulator.runners()).toHaveLength(1);
    const methods = (await emulator.requests()).map((request) => request.method);
    expect(methods).not.toContain("DELETE");
  });

  it("on 409 for an organization runner, looks it up in the organization", async () => {
    const emulator = emulatorFor("jit-409-org");
    await emulator.seed({ runners: [{ organization: "octo-org", name: "modal-46-1" }] });
    const result = await client(emulator).generateJitConfig({
      scope: org,
      name: "modal-46-1",
      labels: LABELS,
      runnerGroupId: 1,
    });

    expect(result.kind).toBe("created");
    const routes = (await emulator.requests()).map((request) => request.route);
    expect(routes).toEqual([
      "POST /orgs/{org}/actions/runners/generate-jitconfig",
      "GET /orgs/{org}/actions/runners",
      "DELETE /orgs/{org}/actions/runners/{runner_id}",
      "POST /orgs/{org}/actions/runners/generate-jitconfig",
    ]);
  });

  it("on 409 when the runner is gone by the time it is looked up, registers again", async () => {
    const emulator = emulatorFor("jit-409-gone");
    await emulator.fail({
      route: "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
      status: 409,
    });
    const result = await client(emulator).generateJitConfig({
      scope: repo,
      name: "modal-47-1",
      labels: LABELS,
      runnerGroupId: 1,
    });

    expect(result.kind).toBe("created");
    expect((await emulator.requests()).map((request) => request.method)).toEqual(["POST", "GET", "POST"]);
  });

  it("on a second 409, gives up for now with a retryable error", async () => {
    const emulator = emulatorFor("jit-409-twice");
    await emulator.fail({
      route: "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
      status: 409,
      count: 2,
    });
    const error = await rejection(
      client(emulator).generateJitConfig({
        scope: repo,
        name: "modal-48-1",
        labels: LABELS,
        runnerGroupId: 1,
      }),
    );

    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "name_conflict", operation: "generateJitConfig", status: 409 });
  });

  it("when the offline runner takes a job before the delete, reports it as running", async () => {
    const emulator = emulatorFor("jit-409-race");
    await emulator.seed({ runners: [{ repository: "octo-org/hello-world", name: "modal-49-1" }] });
    await emulator.fail({ route: "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}", status: 422 });
    const result = await client(emulator).generateJitConfig({
      scope: repo,
      name: "modal-49-1",
      labels: LABELS,
      runnerGroupId: 1,
    });

    expect(result).toMatchObject({ kind: "already_running", busy: true });
  });

  it("refuses labels and groups GitHub would refuse, without calling it", async () => {
    const emulator = emulatorFor("jit-invalid");
    const github = client(emulator);
    const tooMany = Array.from({ length: 101 }, (_, i) => `label-${i}`);
    for (const input of [
      { name: "x", labels: [], runnerGroupId: 1 },
      { name: "x", labels: tooMany, runnerGroupId: 1 },
      { name: " ", labels: LABELS, runnerGroupId: 1 },
      { name: "x", labels: LABELS, runnerGroupId: 0 },
    ]) {
      const error = await rejection(github.generateJitConfig({ scope: repo, ...input }));
      expect(error).toMatchObject({ retryable: false, reason: "invalid_request" });
    }
    expect(await emulator.requests()).toHaveLength(0);
  });

  it("never writes the JIT config, the token or the App key to the log, even at debug level", async () => {
    const emulator = emulatorFor("jit-secrets");
    await emulator.seed({ runners: [{ repository: "octo-org/hello-world", name: "modal-50-1" }] });
    const log = captureLog();
    const github = client(emulator, { logger: log.logger });
    const first = await github.generateJitConfig({
      scope: repo,
      name: "modal-50-1",
      labels: LABELS,
      runnerGroupId: 1,
    });
    const second = await github.generateJitConfig({
      scope: repo,
      name: "modal-50-2",
      labels: LABELS,
      runnerGroupId: 1,
    });

    expect(log.lines.length).toBeGreaterThan(3);
    for (const result of [first, second]) {
      if (result.kind !== "created") throw new Error("expected a runner");
      expect(log.text()).not.toContain(result.encodedJitConfig);
      expect(log.text()).not.toContain(result.encodedJitConfig.slice(0, 40));
    }
    expect(log.text()).not.toContain(PAT);
  });
});

describe("the client built from configuration", () => {
  it("uses the configured API URL and token", async () => {
    const emulator = emulatorFor("from-config");
    const github = createGitHubClientFromConfig(
      {
        apiUrl: emulator.url,
        auth: { kind: "token", token: PAT },
        runnerScope: "repo",
        runnerGroupId: 1,
        runnerVersion: "latest",
      },
      { fetch, now: Date.now },
    );
    expect(await github.getLatestRunnerRelease()).toMatchObject({ version: "2.334.0" });
    const [request] = await emulator.requests();
    expect(request?.auth.kind).toBe("pat");
  });

  it("reads runner releases from github.com for GitHub Enterprise Server and GHE.com", () => {
    expect(releasesBaseUrlFor("https://github.example.com/api/v3")).toBe("https://api.github.com");
    expect(releasesBaseUrlFor("https://api.octocorp.ghe.com")).toBe("https://api.github.com");
    expect(releasesBaseUrlFor("https://api.github.com")).toBeUndefined();
    expect(releasesBaseUrlFor("http://127.0.0.1:8787/ns/x")).toBeUndefined();
  });
});
