import { describe, expect, it } from "vitest";
import { client, emulatorFor, rejection } from "./helpers.ts";

const repo = { kind: "repo", owner: "octo-org", repo: "hello-world" } as const;
const org = { kind: "org", org: "octo-org" } as const;
const RUN_OF_JOB_7 = 900_007;

describe("runner lookups", () => {
  it("finds a runner by id and by exact name, in its own scope only", async () => {
    const emulator = emulatorFor("lookup");
    await emulator.seed({
      runners: [
        {
          repository: "octo-org/hello-world",
          name: "modal-1",
          labels: ["self-hosted", "modal"],
          status: "online",
        },
        { repository: "octo-org/hello-world", name: "modal-10" },
        { organization: "octo-org", name: "modal-1" },
      ],
    });
    const [repoRunner, , orgRunner] = await emulator.runners();
    const github = client(emulator);

    expect(await github.getRunnerByName(repo, "modal-1")).toEqual({
      id: repoRunner?.id,
      name: "modal-1",
      os: "Linux",
      status: "online",
      busy: false,
      labels: ["self-hosted", "modal"],
      runnerGroupId: 1,
      ephemeral: true,
    });
    expect(await github.getRunnerByName(org, "modal-1")).toMatchObject({
      id: orgRunner?.id,
      name: "modal-1",
      status: "offline",
    });
    expect((await github.getRunnerByName(repo, "modal-1"))?.id).toBe(repoRunner?.id);
    expect((await github.getRunnerByName(org, "modal-1"))?.id).toBe(orgRunner?.id);
    expect(await github.getRunnerByName(repo, "modal-100")).toBeUndefined();
  });

  it("lists every page, following GitHub's Link header, and filters by name prefix", async () => {
    const emulator = emulatorFor("pagination");
    const names = Array.from({ length: 230 }, (_, i) => (i % 2 === 0 ? `modal-${i}` : `other-${i}`));
    await emulator.seed({
      runners: names.map((name) => ({ repository: "octo-org/hello-world", name })),
    });
    const github = client(emulator);

    const all = await github.listRunners(repo);
    expect(all.map((runner) => runner.name)).toEqual(names);
    const ours = await github.listRunners(repo, { namePrefix: "modal-" });
    expect(ours).toHaveLength(115);
    expect(ours.every((runner) => runner.name.startsWith("modal-"))).toBe(true);

    const paths = (await emulator.requests()).slice(0, 3).map((request) => request.path);
    expect(paths).toEqual([
      "/repos/octo-org/hello-world/actions/runners?per_page=100",
      expect.stringMatching(/\/actions\/runners\?per_page=100&page=2$/),
      expect.stringMatching(/\/actions\/runners\?per_page=100&page=3$/),
    ]);
  });

  it("pages through an organization's runners too", async () => {
    const emulator = emulatorFor("pagination-org");
    await emulator.seed({
      runners: Array.from({ length: 101 }, (_, i) => ({ organization: "octo-org", name: `modal-${i}` })),
    });
    expect(await client(emulator).listRunners(org)).toHaveLength(101);
    expect((await emulator.requests()).map((request) => request.route)).toEqual([
      "GET /orgs/{org}/actions/runners",
      "GET /orgs/{org}/actions/runners",
    ]);
  });

  it("does not follow a Link to another host (the token would go with it)", async () => {
    const emulator = emulatorFor("pagination-host");
    await emulator.fail({
      route: "GET /repos/{owner}/{repo}/actions/runners",
      status: 200,
      body: { total_count: 2, runners: [] },
      headers: { link: '<https://evil.example/repos/x/y/actions/runners?page=2>; rel="next"' },
    });
    const error = await rejection(client(emulator).listRunners(repo));
    expect(error).toMatchObject({ retryable: true, reason: "bad_response" });
    expect(await emulator.requests()).toHaveLength(1);
  });
});

describe("deleteRunner", () => {
  it("deletes an idle runner (204), and calls a missing one already gone (404)", async () => {
    const emulator = emulatorFor("delete");
    await emulator.seed({ runners: [{ repository: "octo-org/hello-world", name: "modal-1" }] });
    const [runner] = await emulator.runners();
    const github = client(emulator);

    expect(await github.deleteRunner(repo, runner?.id ?? 0)).toBe("deleted");
    expect(await emulator.runners()).toEqual([]);
    expect(await github.deleteRunner(repo, runner?.id ?? 0)).toBe("already_gone");
  });

  it("reports a runner that is running a job as busy (GitHub's 422) and leaves it", async () => {
    const emulator = emulatorFor("delete-busy");
    await emulator.seed({ runners: [{ organization: "octo-org", name: "modal-1", busy: true }] });
    const [runner] = await emulator.runners();

    expect(await client(emulator).deleteRunner(org, runner?.id ?? 0)).toBe("busy");
    expect(await emulator.runners()).toHaveLength(1);
    const [request] = await emulator.requests();
    expect(request?.status).toBe(422);
  });

  it("sees a runner move from busy to finished through the emulator's control API", async () => {
    const emulator = emulatorFor("delete-lifecycle");
    await emulator.seed({ jobs: [{ id: 7, repository: "octo-org/hello-world", runId: RUN_OF_JOB_7 }] });
    const github = client(emulator);
    const created = await github.generateJitConfig({
      scope: repo,
      name: "modal-7-1",
      labels: ["self-hosted"],
      runnerGroupId: 1,
    });
    if (created.kind !== "created") throw new Error("expected a runner");

    await emulator.updateRunner(created.runnerId, { status: "online" });
    expect(await github.getRunnerByName(repo, "modal-7-1")).toMatchObject({ status: "online", busy: false });
    await emulator.updateRunner(created.runnerId, { busy: true, jobId: 7 });
    const [running] = await github.listJobsForRun("octo-org", "hello-world", RUN_OF_JOB_7);
    expect(running).toMatchObject({
      status: "in_progress",
      runnerId: created.runnerId,
      runnerName: "modal-7-1",
    });
    expect(await github.deleteRunner(repo, created.runnerId)).toBe("busy");
    await emulator.updateRunner(created.runnerId, { complete: { conclusion: "success" } });
    expect(await github.getRunnerByName(repo, "modal-7-1")).toBeUndefined();
    const [completed] = await github.listJobsForRun("octo-org", "hello-world", RUN_OF_JOB_7);
    expect(completed).toMatchObject({
      status: "completed",
      conclusion: "success",
    });
  });
});

describe("runner releases", () => {
  it("reads the latest runner release, with credentials on the same host", async () => {
    const emulator = emulatorFor("release");
    await emulator.seed({ releases: [{ repository: "actions/runner", tagName: "v2.335.1" }] });
    expect(await client(emulator).getLatestRunnerRelease()).toMatchObject({
      version: "2.335.1",
      tagName: "v2.335.1",
    });
    const [request] = await emulator.requests();
    expect(request?.auth.kind).toBe("pat");
  });

  it("reads releases from another host anonymously", async () => {
    const emulator = emulatorFor("release-api");
    const releases = emulatorFor("release-host");
    await releases.seed({ releases: [{ repository: "actions/runner", tagName: "v2.336.0" }] });
    const github = client(emulator, { releasesBaseUrl: releases.url });

    expect((await github.getLatestRunnerRelease()).version).toBe("2.336.0");
    const [request] = await releases.requests({ secrets: true });
    expect(request?.headers.authorization).toBeUndefined();
    expect(await emulator.requests()).toEqual([]);
  });

  it("treats a tag that is not a runner version as a bad response", async () => {
    const emulator = emulatorFor("release-bad");
    await emulator.seed({ releases: [{ repository: "actions/runner", tagName: "nightly" }] });
    const error = await rejection(client(emulator).getLatestRunnerRelease());
    expect(error).toMatchObject({ retryable: true, reason: "bad_response" });
  });
});
