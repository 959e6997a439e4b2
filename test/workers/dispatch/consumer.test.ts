/**
 * The consumer invoked directly with batches (`createMessageBatch`), each test on its own emulator namespaces:
 * for what cannot be staged through the live queue — a Worker that dies between two steps, what delay a retry
 * asked for, the dead-letter queue.
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { createQueueConsumer, DEFAULT_LEASE_MS } from "../../../src/dispatch/consumer.ts";
import { toJobMessage } from "../../../src/jobs/message.ts";
import { WorkflowJobPayloadSchema } from "../../../src/jobs/workflow-job.ts";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { githubEmulator } from "../../emulators/github/control-client.ts";
import { consumeBatch } from "../../support/queue-batch.ts";
import { queuedFor } from "../../support/recorded-queue.ts";
import { sandboxBackend } from "../../support/sandbox-backend.ts";
import { withVars } from "../../support/vars.ts";
import { workflowJob } from "../../support/webhook.ts";

const JIT_ROUTE = "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig";

function setup(name: string) {
  const namespace = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  const github = githubEmulator(inject("githubEmulatorUrl"), namespace);
  const modal = sandboxBackend(namespace);
  const workerEnv = withVars({ GITHUB_API_URL: github.url, ...modal.vars });
  const payload = WorkflowJobPayloadSchema.parse(workflowJob("queued", { repository: `${namespace}/repo` }));
  const message = toJobMessage(payload, "job.queued", crypto.randomUUID(), Date.now());
  return { github, modal, workerEnv, message, runnerName: `modal-${message.job.id}-1` };
}

function run(
  consumer: ReturnType<typeof createQueueConsumer>,
  body: unknown,
  workerEnv: Env,
  queue = "actions-on-modal-jobs",
) {
  return consumeBatch(consumer, [body], workerEnv, { queue });
}

/** A fetch that passes calls through until `predicate` matches, then never answers: the Worker "dies" there. */
function dyingFetch(predicate: (url: string) => boolean, forwardFirst: boolean): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    if (!predicate(request.url)) return fetch(request);
    if (forwardFirst) await fetch(request);
    return new Promise<Response>(() => {});
  };
}

describe("messages the consumer cannot use", () => {
  it("acknowledges an unparseable message instead of retrying it forever, and does nothing with it", async () => {
    const { github, modal, message, workerEnv } = setup("unparseable");
    // Garbage, and a job in a message version this consumer does not know: neither can be read as a job.
    const result = await consumeBatch(
      createQueueConsumer(),
      [
        { v: 99, hello: "world" },
        { ...message, v: 2 },
      ],
      workerEnv,
    );
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toEqual([]);
    expect(await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id)).toBeNull();
    expect(await github.requests()).toEqual([]);
    expect(await modal.sandboxes()).toEqual([]);
  });

  it("keeps a job waiting in the ledger (acknowledged, no retry spent) while Modal credentials are missing", async () => {
    const { message, workerEnv, modal } = setup("noconfig");
    const token = modal.adapter === "direct" ? "MODAL_TOKEN_ID" : "MODAL_PROXY_TOKEN_ID";
    const result = await run(createQueueConsumer({ random: () => 1 }), message, {
      ...workerEnv,
      [token]: "",
    });
    expect(result.retryMessages).toHaveLength(0);
    expect(result.explicitAcks).toHaveLength(1);
    const problem = modal.adapter === "direct" ? "is required" : "is required with MODAL_LAUNCHER_URL";
    const record = await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id);
    expect(record).toMatchObject({ state: "queued", waitReason: "config", lastError: `${token} ${problem}` });
  });
});

describe("retry delays", () => {
  it("a GitHub rate limit is waited out in the ledger, not on the queue: no retry spent", async () => {
    const { github, message, workerEnv } = setup("ratelimit");
    await github.fail({ route: JIT_ROUTE, status: 429, retryAfter: 7 });
    const before = Date.now();
    const result = await run(createQueueConsumer({ random: () => 0 }), message, workerEnv);
    expect(result.retryMessages).toHaveLength(0);
    expect(result.explicitAcks).toHaveLength(1);
    const record = await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id);
    // Nothing was registered, so the claim was given back: the next try is attempt 1 again.
    expect(record).toMatchObject({ state: "queued", waitReason: "rate_limited", attempts: 0 });
    expect(record?.wakeAt).toBeGreaterThanOrEqual(before + 7000);
    expect(record?.lastError).toContain("429");
  });

  it("a transient failure is retried on the queue with backoff", async () => {
    const { github, message, workerEnv } = setup("retry-502");
    await github.fail({ route: JIT_ROUTE, status: 502 });
    const result = await run(createQueueConsumer({ random: () => 0 }), message, workerEnv);
    // Full jitter with random() = 0 is the floor of the backoff: one second.
    expect(result.retryMessages).toEqual([{ msgId: expect.any(String), delaySeconds: 1 }]);
    const record = await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id);
    expect(record).toMatchObject({ state: "dispatching", leaseUntil: 0 });
  });
});

describe("a Worker that dies between two steps", () => {
  it("after the runner registration: the redelivery replaces the registration and starts one sandbox", async () => {
    const { github, modal, message, workerEnv, runnerName } = setup("crash-jit");
    const dying = createQueueConsumer({
      fetch: dyingFetch((url) => url.endsWith(modal.startPath), false),
    });
    void run(dying, message, workerEnv);
    await waitUntil(async () => (await github.runners()).some((runner) => runner.name === runnerName));

    // The queue redelivers once the invocation is gone; by then the lease has run out.
    const later = createQueueConsumer({ now: () => Date.now() + DEFAULT_LEASE_MS + 1000 });
    const result = await run(later, message, workerEnv);
    expect(result.explicitAcks).toHaveLength(1);

    const runners = (await github.runners()).filter((runner) => runner.name === runnerName);
    expect(runners).toHaveLength(1);
    const sandboxes = (await modal.sandboxes()).filter((sandbox) => sandbox.name === runnerName);
    expect(sandboxes).toHaveLength(1);
    const requests = await github.requests();
    expect(requests.filter((request) => request.route === JIT_ROUTE)).toHaveLength(3); // 201, 409, 201
    expect(requests.filter((request) => request.method === "DELETE")).toHaveLength(1);
    const record = await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id);
    expect(record).toMatchObject({ state: "started", runnerId: runners[0]?.id, sandboxId: sandboxes[0]?.id });
    expect(sandboxes[0]?.env.ACTIONS_RUNNER_INPUT_JITCONFIG).toBeDefined();
  });

  it("after the sandbox was created: the redelivery adopts that sandbox and registers nothing new", async () => {
    const { github, modal, message, workerEnv, runnerName } = setup("crash-sandbox");
    const dying = createQueueConsumer({ fetch: dyingFetch((url) => url.endsWith(modal.startPath), true) });
    void run(dying, message, workerEnv);
    await waitUntil(async () => (await modal.sandboxes()).some((sandbox) => sandbox.name === runnerName));

    const later = createQueueConsumer({ now: () => Date.now() + DEFAULT_LEASE_MS + 1000 });
    const result = await run(later, message, workerEnv);
    expect(result.explicitAcks).toHaveLength(1);
    const sandboxes = (await modal.sandboxes()).filter((sandbox) => sandbox.name === runnerName);
    expect(sandboxes).toHaveLength(1);
    expect((await github.requests()).filter((request) => request.route === JIT_ROUTE)).toHaveLength(1);
    expect((await github.runners()).filter((runner) => runner.name === runnerName)).toHaveLength(1);
    const record = await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id);
    expect(record).toMatchObject({ state: "started", sandboxId: sandboxes[0]?.id });
  });

  it("a redelivery while the first attempt still holds the lease is told to come back later", async () => {
    const { message, workerEnv, modal } = setup("busy");
    const dying = createQueueConsumer({
      fetch: dyingFetch((url) => url.endsWith(modal.startPath), false),
    });
    void run(dying, message, workerEnv);
    await waitUntil(async () => {
      const record = await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id);
      return record?.state === "dispatching";
    });
    const result = await run(createQueueConsumer(), message, workerEnv);
    // Back when the first attempt's lease runs out, not at once.
    expect(result.retryMessages).toHaveLength(1);
    expect(result.retryMessages[0]?.delaySeconds).toBeGreaterThan(100);
  });
});

describe("the per-owner runner cap", () => {
  it("parks a job over MAX_RUNNERS_PER_OWNER and sends it back to the queue when a runner finishes", async () => {
    const { github, modal, message: first, workerEnv, runnerName } = setup("cap");
    const capped = { ...workerEnv, MAX_RUNNERS_PER_OWNER: "1", JOBS_QUEUE: env.RECORDED_QUEUE };
    const consumer = createQueueConsumer();
    expect((await run(consumer, first, capped)).explicitAcks).toHaveLength(1);

    const payload = WorkflowJobPayloadSchema.parse(
      workflowJob("queued", { repository: first.job.repository }),
    );
    const second = toJobMessage(payload, "job.queued", crypto.randomUUID(), Date.now());
    expect((await run(consumer, second, capped)).explicitAcks).toHaveLength(1);
    expect(await ledgerFor(env.LEDGER, second.job.owner).getJob(second.job.id)).toMatchObject({
      state: "queued",
      waitReason: "cap",
      attempts: 0,
    });
    expect((await modal.sandboxes()).map((sandbox) => sandbox.name)).toEqual([runnerName]);

    // GitHub reports the first runner's job completed: its slot frees, the parked job goes back on the queue.
    const done = WorkflowJobPayloadSchema.parse(
      workflowJob("completed", { repository: first.job.repository, jobId: first.job.id }),
    );
    done.workflow_job.runner_name = runnerName;
    done.workflow_job.conclusion = "success";
    await run(consumer, toJobMessage(done, "job.completed", crypto.randomUUID(), Date.now()), capped);
    const [requeued] = await queuedFor(second.deliveryId);
    expect(requeued).toEqual(second);

    await run(consumer, requeued, capped);
    const names = (await modal.sandboxes()).map((sandbox) => sandbox.name).sort();
    expect(names).toEqual([runnerName, `modal-${second.job.id}-1`].sort());
    expect((await github.runners()).map((runner) => runner.name).sort()).toEqual(names);
  });
});

describe("the dead-letter queue", () => {
  it("fails the job, deregisters its idle runner and terminates nothing that is not there", async () => {
    const { github, modal, message, workerEnv, runnerName } = setup("dlq");
    await modal.failStart({ kind: "unavailable", count: 100 });
    const first = await run(createQueueConsumer({ random: () => 0 }), message, workerEnv);
    expect(first.retryMessages).toHaveLength(1);
    expect((await github.runners()).some((runner) => runner.name === runnerName)).toBe(true);

    const result = await run(createQueueConsumer(), message, workerEnv, "actions-on-modal-jobs-dlq");
    expect(result.explicitAcks).toHaveLength(1);
    const record = await ledgerFor(env.LEDGER, message.job.owner).getJob(message.job.id);
    expect(record?.state).toBe("failed");
    expect(record?.lastError).toMatch(/^gave up after 1 failed attempts: .*(UNAVAILABLE|modal_unavailable)/);
    expect((await github.runners()).some((runner) => runner.name === runnerName)).toBe(false);
    expect((await modal.sandboxes()).filter((sandbox) => sandbox.name === runnerName)).toHaveLength(0);
  });

  it("leaves a busy runner alone: it is running a job, maybe another one", async () => {
    const { github, message, workerEnv, runnerName } = setup("dlq-busy");
    await github.seed({
      runners: [{ repository: message.job.repository, name: runnerName, status: "online", busy: true }],
    });
    await run(createQueueConsumer(), message, workerEnv, "actions-on-modal-jobs-dlq");
    expect((await github.runners()).filter((runner) => runner.name === runnerName)).toHaveLength(1);
    expect((await github.requests()).filter((request) => request.method === "DELETE")).toEqual([]);
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
