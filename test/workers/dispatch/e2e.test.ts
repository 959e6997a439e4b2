/**
 * The whole product in workerd: signed delivery → webhook → the real local Queue → consumer → ledger → GitHub
 * and Modal (or launcher) emulators. Runs once per SandboxProvider adapter (vitest.config.ts projects); the tests
 * share the project's emulator namespace and keep apart by repository and job id.
 */
import { describe, expect, it } from "vitest";
import {
  deliverLifecycle,
  deliverQueued,
  github,
  sandboxes,
  settle,
  uniqueRepository,
  waitForState,
} from "../../support/dispatch.ts";
import { runnerIdInJitConfig } from "../../support/sandbox-backend.ts";
import { uniqueJobId } from "../../support/webhook.ts";

const JIT_ROUTE = "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig";

async function jitCalls(repository: string) {
  return (await github().requests()).filter(
    (request) => request.route === JIT_ROUTE && request.path.includes(`/repos/${repository}/`),
  );
}

async function sandboxesNamed(runnerName: string) {
  return (await sandboxes().sandboxes()).filter((sandbox) => sandbox.name === runnerName);
}

/** The invariant: one registered runner under the name, one sandbox, and the sandbox holds that runner's JIT config. */
async function expectOneRunnerOneSandbox(runnerName: string) {
  const runners = (await github().runners()).filter((runner) => runner.name === runnerName);
  expect(runners).toHaveLength(1);
  const started = await sandboxesNamed(runnerName);
  expect(started).toHaveLength(1);
  const jit = started[0]?.env.ACTIONS_RUNNER_INPUT_JITCONFIG ?? "";
  expect(runnerIdInJitConfig(jit)).toBe(runners[0]?.id);
  return { runner: runners[0], sandbox: started[0] };
}

describe("one queued job", () => {
  it("makes exactly one runner registration and one sandbox, with the JIT config only in the secret", async () => {
    const repository = uniqueRepository();
    const { jobId } = await deliverQueued({ repository, labels: ["self-hosted", "modal", "Linux"] });
    const record = await waitForState(repository, jobId, ["started"]);
    const runnerName = `modal-${jobId}-1`;
    expect(record).toMatchObject({ runnerName, state: "started" });

    const jits = await jitCalls(repository);
    expect(jits).toHaveLength(1);
    expect(jits[0]?.body).toEqual({
      name: runnerName,
      runner_group_id: 1,
      labels: ["self-hosted", "modal", "Linux"],
      work_folder: "_work",
    });

    const { runner, sandbox } = await expectOneRunnerOneSandbox(runnerName);
    expect(record.runnerId).toBe(runner?.id);
    expect(record.sandboxId).toBe(sandbox?.id);
    expect(sandbox).toMatchObject({
      command: ["/home/runner/run.sh"],
      cpu: 2,
      memoryMiB: 4096,
      timeoutSeconds: 3600,
      tags: { "job-id": String(jobId), repository, "runner-name": runnerName },
    });
    expect(sandbox?.env.RUNNER_ALLOW_RUNASROOT).toBe("1");

    // The JIT config travels in the secret part of the request only: not in the command, tags, name or image.
    const jit = sandbox?.env.ACTIONS_RUNNER_INPUT_JITCONFIG ?? "";
    expect(jit.length).toBeGreaterThan(20);
    const starts = await sandboxes().startCalls(runnerName);
    expect(starts).toHaveLength(1);
    expect(starts[0]?.publicPart).not.toContain(jit);
  });
});

describe("duplicates", () => {
  it("ten concurrent copies of one delivery still make one runner and one sandbox", async () => {
    const repository = uniqueRepository();
    const deliveryId = crypto.randomUUID();
    const first = await deliverQueued({ repository, deliveryId });
    await Promise.all(
      Array.from({ length: 9 }, () => deliverQueued({ repository, deliveryId, jobId: first.jobId })),
    );
    await waitForState(repository, first.jobId, ["started"]);
    await settle(3000);
    expect(await jitCalls(repository)).toHaveLength(1);
    expect(await sandboxes().startCalls(`modal-${first.jobId}-1`)).toHaveLength(1);
    await expectOneRunnerOneSandbox(`modal-${first.jobId}-1`);
  });

  it("queued → waiting → queued (two deliveries, one job) makes one runner and one sandbox", async () => {
    const repository = uniqueRepository();
    const { jobId } = await deliverQueued({ repository });
    await deliverLifecycle("waiting", { repository, jobId });
    await deliverQueued({ repository, jobId });
    await waitForState(repository, jobId, ["started"]);
    await settle();
    expect(await jitCalls(repository)).toHaveLength(1);
    expect(await sandboxes().startCalls(`modal-${jobId}-1`)).toHaveLength(1);
  });
});

describe("upstream failures", () => {
  it("GitHub 502, then success: retried, one runner in the end", async () => {
    const repository = uniqueRepository();
    await github().fail({ route: JIT_ROUTE, pathIncludes: `/repos/${repository}/`, status: 502, count: 1 });
    const { jobId } = await deliverQueued({ repository });
    await waitForState(repository, jobId, ["started"]);
    expect(await jitCalls(repository)).toHaveLength(2);
    await expectOneRunnerOneSandbox(`modal-${jobId}-1`);
  });

  it("Modal unavailable, then success: one sandbox, holding a valid registration", async () => {
    const repository = uniqueRepository();
    const jobId = uniqueJobId();
    const runnerName = `modal-${jobId}-1`;
    await sandboxes().failStart({ kind: "unavailable", runnerName });
    await deliverQueued({ repository, jobId });
    const record = await waitForState(repository, jobId, ["started"], 30_000);
    expect((await sandboxes().startCalls(runnerName)).map((call) => call.ok)).toEqual([false, true]);
    const { sandbox } = await expectOneRunnerOneSandbox(runnerName);
    expect(record.sandboxId).toBe(sandbox?.id);
  }, 40_000);

  it("Modal refuses the sandbox for good: the runner is deregistered and the job fails with a readable reason", async () => {
    const repository = uniqueRepository();
    const jobId = uniqueJobId();
    const runnerName = `modal-${jobId}-1`;
    await sandboxes().failStart({
      kind: "invalid",
      runnerName,
      message: "cpu request exceeds the workspace limit",
    });
    await deliverQueued({ repository, jobId });
    const record = await waitForState(repository, jobId, ["failed"]);
    expect(record.lastError).toMatch(
      sandboxes().adapter === "direct" ? /cpu request exceeds/ : /modal_rejected/,
    );
    const requests = (await github().requests()).filter((request) =>
      request.path.includes(`/repos/${repository}/`),
    );
    expect(requests.filter((request) => request.route === JIT_ROUTE)).toHaveLength(1);
    expect(requests.filter((request) => request.method === "DELETE")).toHaveLength(1);
    expect((await github().runners()).filter((runner) => runner.name === runnerName)).toHaveLength(0);
    expect(await sandboxesNamed(runnerName)).toHaveLength(0);
  });
});

describe("caching", () => {
  it("looks the Modal app and image up once for many jobs", async () => {
    const repository = uniqueRepository();
    const jobs = await Promise.all(Array.from({ length: 5 }, () => deliverQueued({ repository })));
    for (const { jobId } of jobs) await waitForState(repository, jobId, ["started"]);
    // Every earlier test in this file dispatched through the same Worker: still one lookup of each.
    expect(await sandboxes().setupCalls()).toEqual({ app: 1, image: 1 });
    for (const { jobId } of jobs) expect(await sandboxes().startCalls(`modal-${jobId}-1`)).toHaveLength(1);
  });
});
