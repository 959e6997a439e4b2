import { describe, expect, it } from "vitest";
import { PermanentError } from "../../../src/errors.ts";
import { client, emulatorFor, PAT, rejection } from "./helpers.ts";

describe("listJobsForRun", () => {
  it("reads every page of the run's latest attempt, 100 at a time", async () => {
    const emulator = emulatorFor("run-jobs");
    await emulator.seed({
      jobs: [
        ...Array.from({ length: 3 }, (_, i) => ({
          id: 1 + i,
          repository: "octo-org/hello-world",
          runId: 900,
          runAttempt: 1,
          status: "completed" as const,
          conclusion: "failure",
        })),
        ...Array.from({ length: 230 }, (_, i) => ({
          id: 100 + i,
          repository: "octo-org/hello-world",
          runId: 900,
          runAttempt: 2,
        })),
        { id: 5000, repository: "octo-org/hello-world", runId: 901 },
      ],
    });
    const jobs = await client(emulator).listJobsForRun("octo-org", "hello-world", 900);

    expect(jobs).toHaveLength(230);
    expect(jobs.map((job) => job.id)).toEqual(Array.from({ length: 230 }, (_, i) => 100 + i));
    expect(jobs[0]).toMatchObject({ runId: 900, runAttempt: 2, status: "queued", runnerId: null });
    const paths = (await emulator.requests()).map((request) => request.path);
    expect(paths).toEqual([
      "/repos/octo-org/hello-world/actions/runs/900/jobs?filter=latest&per_page=100",
      expect.stringMatching(/\/actions\/runs\/900\/jobs\?filter=latest&per_page=100&page=2$/),
      expect.stringMatching(/\/actions\/runs\/900\/jobs\?filter=latest&per_page=100&page=3$/),
    ]);
  });

  it("does not follow a Link to another host", async () => {
    const emulator = emulatorFor("run-jobs-host");
    await emulator.fail({
      route: "GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
      status: 200,
      body: { total_count: 2, jobs: [] },
      headers: { link: '<https://evil.example/repos/x/y/actions/runs/1/jobs?page=2>; rel="next"' },
    });
    const error = await rejection(client(emulator).listJobsForRun("octo-org", "hello-world", 1));
    expect(error).toMatchObject({ retryable: true, reason: "bad_response", operation: "listJobsForRun" });
    expect(await emulator.requests()).toHaveLength(1);
  });

  it("maps a run GitHub does not know to not_found, and a token without Actions: read to forbidden", async () => {
    const emulator = emulatorFor("run-jobs-errors");
    await emulator.seed({
      tokens: [{ token: PAT, permissions: { administration: "write" } }],
      jobs: [{ id: 1, repository: "octo-org/hello-world", runId: 7 }],
    });
    const forbidden = await rejection(client(emulator).listJobsForRun("octo-org", "hello-world", 7));
    expect(forbidden).toBeInstanceOf(PermanentError);
    expect(forbidden).toMatchObject({ reason: "forbidden", status: 403 });
    expect(String(forbidden)).toContain('"Actions: read" on octo-org/hello-world');

    await emulator.seed({ tokens: [{ token: PAT }] });
    const missing = await rejection(client(emulator).listJobsForRun("octo-org", "hello-world", 8));
    expect(missing).toMatchObject({ reason: "not_found", status: 404, operation: "listJobsForRun" });
  });
});

describe("listRuns", () => {
  it("lists runs in a status, with their repository's owner and visibility, across pages", async () => {
    const emulator = emulatorFor("runs");
    await emulator.seed({
      repositoryMetadata: [{ repository: "mona/site", private: false, ownerType: "User" }],
      jobs: [
        ...Array.from({ length: 120 }, (_, i) => ({ id: 1 + i, repository: "mona/site", runId: 1000 + i })),
        { id: 500, repository: "mona/site", runId: 2000, status: "in_progress" as const },
        {
          id: 501,
          repository: "mona/site",
          runId: 2001,
          status: "completed" as const,
          conclusion: "success",
        },
      ],
    });
    const github = client(emulator);
    const queued = await github.listRuns("mona", "site", { status: "queued" });

    expect(queued).toHaveLength(120);
    expect(queued[0]).toEqual({
      id: 1119,
      runAttempt: 1,
      status: "queued",
      repository: { fullName: "mona/site", private: false, ownerLogin: "mona", ownerType: "User" },
    });
    expect((await github.listRuns("mona", "site", { status: "in_progress" })).map((run) => run.id)).toEqual([
      2000,
    ]);
    expect(await github.listRuns("mona", "site")).toHaveLength(122);
    const [first] = await emulator.requests();
    expect(first?.path).toBe("/repos/mona/site/actions/runs?per_page=100&status=queued");
  });

  it("maps a missing repository to not_found", async () => {
    const emulator = emulatorFor("runs-missing");
    await emulator.seed({ repositories: ["octo-org/hello-world"] });
    const error = await rejection(client(emulator).listRuns("octo-org", "gone", { status: "queued" }));
    expect(error).toMatchObject({ retryable: false, reason: "not_found", status: 404 });
    expect(String(error)).toContain("octo-org/gone");
  });
});
