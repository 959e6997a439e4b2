/**
 * The whole product in workerd: signed delivery → webhook → the real local Queue → consumer → ledger → GitHub
 * and Modal (or launcher) emulators. Runs once per SandboxProvider adapter (vitest.config.ts projects); the tests
 * share the project's emulator namespace and keep apart by repository and job id. The duplicates test hands its copies
 * to the Worker's queue handler itself (`createMessageBatch`), to read how each one was settled.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../../src/index.ts";
import {
  deliverQueued,
  github,
  ledgerRecord,
  sandboxes,
  uniqueRepository,
  waitForState,
} from "../../support/dispatch.ts";
import { lifecycleMessage, queuedMessage } from "../../support/lifecycle.ts";
import { consumeBatch } from "../../support/queue-batch.ts";
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

/** One invocation of the Worker's queue consumer, as the Queue makes it, with these copies of a message; what it settled. */
function consume(bodies: unknown[], attempts = 1) {
  return consumeBatch(worker.queue, bodies, env, { attempts });
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
  it("ten copies of one delivery, two consumers racing for the job: one dispatches, nine wait out its lease, then are acknowledged", async () => {
    const repository = uniqueRepository();
    const message = queuedMessage(repository);
    const runnerName = `modal-${message.job.id}-1`;
    // The first invocation of the Worker's consumer takes one copy and claims the job; its request for the runner's
    // registration waits until let go, so it holds the lease (the job "dispatching") while a second invocation takes
    // the other nine. (The Worker runs in this isolate: its calls go through this fetch.)
    let letGo = () => {};
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    const realFetch = globalThis.fetch;
    const hold = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.includes(`/repos/${repository}/actions/runners/generate-jitconfig`)) await held;
      return realFetch(input, init);
    });
    try {
      const first = consume([message]);
      await waitForState(repository, message.job.id, ["dispatching"]);
      const second = await consume(Array(9).fill(message));
      // None of the nine is dispatched nor dropped: each is retried, to come back once the lease can have ended.
      expect(second.explicitAcks).toEqual([]);
      expect(second.retryMessages).toHaveLength(9);
      // Held off by the lease, which the first consumer still holds: one attempt, nothing registered yet.
      const during = await ledgerRecord(message.job.owner, message.job.id);
      expect(during).toMatchObject({ state: "dispatching", attempts: 1 });
      expect(during?.leaseUntil).toBeGreaterThan(Date.now());
      letGo();
      expect((await first).explicitAcks).toHaveLength(1);
    } finally {
      letGo();
      hold.mockRestore();
    }
    expect(await waitForState(repository, message.job.id, ["started"])).toMatchObject({ attempts: 1 });
    // The queue brings the nine back: the job has its runner now, so each is acknowledged.
    const again = await consume(Array(9).fill(message), 2);
    expect(again.retryMessages).toEqual([]);
    expect(again.explicitAcks).toHaveLength(9);
    expect(await ledgerRecord(message.job.owner, message.job.id)).toMatchObject({
      state: "started",
      attempts: 1,
    });
    expect(await jitCalls(repository)).toHaveLength(1);
    expect(await sandboxes().startCalls(runnerName)).toHaveLength(1);
    await expectOneRunnerOneSandbox(runnerName);
  });

  it("queued → waiting → queued (two deliveries, one job) makes one runner and one sandbox", async () => {
    const repository = uniqueRepository();
    const queued = queuedMessage(repository);
    // The three deliveries in GitHub's order, each handed to the Worker's consumer and each outcome read: once all
    // three are acknowledged the queue holds nothing more of this job, so the counts below are final.
    expect((await consume([queued])).explicitAcks).toHaveLength(1);
    const waiting = await consume([lifecycleMessage(queued, "waiting", { runnerName: null })]);
    expect(waiting.explicitAcks).toHaveLength(1);
    // The second `queued` (after the wait) is a delivery of its own for the same job.
    const again = await consume([{ ...queued, deliveryId: crypto.randomUUID() }]);
    expect(again.retryMessages).toEqual([]);
    expect(again.explicitAcks).toHaveLength(1);
    expect(await ledgerRecord(queued.job.owner, queued.job.id)).toMatchObject({
      state: "started",
      attempts: 1,
    });
    expect(await jitCalls(repository)).toHaveLength(1);
    expect(await sandboxes().startCalls(`modal-${queued.job.id}-1`)).toHaveLength(1);
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

describe("sizing by label", () => {
  it("a job asking for 8 cores and an L4 gets exactly that sandbox, registered with all its labels", async () => {
    const repository = uniqueRepository();
    const labels = ["self-hosted", "modal", "modal-cpu-8", "modal-gpu-l4"];
    const { jobId } = await deliverQueued({ repository, labels });
    await waitForState(repository, jobId, ["started"]);
    const runnerName = `modal-${jobId}-1`;

    const jits = await jitCalls(repository);
    expect(jits).toHaveLength(1);
    expect(jits[0]?.body).toMatchObject({ name: runnerName, labels });
    const { sandbox } = await expectOneRunnerOneSandbox(runnerName);
    // What Modal (or the launcher) recorded, read back from the emulator: the asked size, the rest the defaults.
    expect(sandbox).toMatchObject({ cpu: 8, gpu: "L4", memoryMiB: 4096, timeoutSeconds: 3600, regions: [] });
  });

  it("memory and timeout labels set the sandbox's memory and lifetime", async () => {
    const repository = uniqueRepository();
    const labels = ["self-hosted", "modal", "MODAL-MEM-32G", "modal-timeout-30m", "modal-cpu-0.5"];
    const { jobId } = await deliverQueued({ repository, labels });
    await waitForState(repository, jobId, ["started"]);
    const { sandbox } = await expectOneRunnerOneSandbox(`modal-${jobId}-1`);
    expect(sandbox).toMatchObject({ cpu: 0.5, gpu: null, memoryMiB: 32 * 1024, timeoutSeconds: 30 * 60 });
  });

  it("a job asking for a GPU the operator does not allow is refused: nothing registered, nothing started", async () => {
    const repository = uniqueRepository();
    const { jobId } = await deliverQueued({
      repository,
      labels: ["self-hosted", "modal", "modal-cpu-8", "modal-gpu-h100"],
    });
    const record = await waitForState(repository, jobId, ["failed"]);
    expect(record.lastError).toContain("modal-gpu-h100");
    expect(record.lastError).toContain("ALLOWED_GPUS");
    expect(record.runnerName ?? null).toBeNull();
    // The refusal comes before the claim: once the job has failed, its message can register nothing more.
    const requests = (await github().requests()).filter((request) =>
      request.path.includes(`/repos/${repository}/`),
    );
    expect(requests.filter((request) => request.route === JIT_ROUTE)).toHaveLength(0);
    expect((await github().runners()).filter((runner) => runner.name.startsWith(`modal-${jobId}-`))).toEqual(
      [],
    );
    expect(
      (await sandboxes().sandboxes()).filter((sandbox) => sandbox.name.startsWith(`modal-${jobId}-`)),
    ).toEqual([]);
    // A personal access token cannot post check runs: the ledger and the log say it, GitHub shows nothing.
    expect((await github().checkRuns()).filter((run) => `${run.owner}/${run.repo}` === repository)).toEqual(
      [],
    );
    // Still refused when GitHub delivers the job again, and still nothing registered. The copy is handed to the
    // Worker's queue handler itself: a redelivery refused for the same reason changes nothing one could wait for.
    const again = await consume([
      queuedMessage(repository, { jobId, labels: ["self-hosted", "modal", "modal-cpu-8", "modal-gpu-h100"] }),
    ]);
    expect(again.retryMessages).toEqual([]);
    expect(again.explicitAcks).toHaveLength(1);
    expect((await waitForState(repository, jobId, ["failed"])).lastError).toBe(record.lastError);
    expect(await jitCalls(repository)).toHaveLength(0);
  });

  it("over a limit, two labels for one setting, and an unknown modal- key are each refused with the reason", async () => {
    const repository = uniqueRepository();
    const cases = [
      { labels: ["modal-cpu-32"], says: ["modal-cpu-32", "MAX_SANDBOX_CPU"] },
      { labels: ["modal-cpu-2", "modal-cpu-4"], says: ["modal-cpu-4"] },
      { labels: ["modal-disk-100g"], says: ["modal-disk-100g"] },
    ];
    const jobs = await Promise.all(
      cases.map((item) => deliverQueued({ repository, labels: ["self-hosted", "modal", ...item.labels] })),
    );
    for (const [index, { jobId }] of jobs.entries()) {
      const record = await waitForState(repository, jobId, ["failed"]);
      for (const text of cases[index]?.says ?? []) expect(record.lastError).toContain(text);
    }
    expect(await jitCalls(repository)).toHaveLength(0);
  });
});
