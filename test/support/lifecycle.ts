/**
 * For lifecycle tests: jobs dispatched through the real consumer with a clock of the test's choosing (so a job can
 * be "ten minutes old" without waiting), GitHub's lifecycle deliveries fed to the same consumer, and the owner's
 * reconciler run on demand. Everything talks to the project's emulator namespace (the one the ledger's own
 * reconciler uses); tests keep apart by owner.
 */
import { env } from "cloudflare:workers";
import { createQueueConsumer } from "../../src/dispatch/consumer.ts";
import { type JobMessage, toJobMessage } from "../../src/jobs/message.ts";
import { WorkflowJobPayloadSchema } from "../../src/jobs/workflow-job.ts";
import { ledgerFor } from "../../src/ledger/job-ledger.ts";
import type { JobRecord, RunnerRecord } from "../../src/ledger/types.ts";
import { github, sandboxes } from "./dispatch.ts";
import { consumeBatch } from "./queue-batch.ts";
import { workflowJob } from "./webhook.ts";

export const MINUTE = 60_000;

export function runMessages(
  bodies: unknown[],
  options: { now?: () => number; env?: Env; queue?: string; attempts?: number } = {},
) {
  return consumeBatch(createQueueConsumer({ now: options.now ?? Date.now }), bodies, options.env ?? env, {
    queue: options.queue,
    attempts: options.attempts,
  });
}

export function queuedMessage(
  repository: string,
  options: { labels?: string[]; jobId?: number; runId?: number } = {},
) {
  const payload = WorkflowJobPayloadSchema.parse(
    workflowJob("queued", {
      repository,
      ...(options.labels === undefined ? {} : { labels: options.labels }),
      ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
      ...(options.runId === undefined ? {} : { runId: options.runId }),
    }),
  );
  return toJobMessage(payload, "job.queued", crypto.randomUUID(), Date.now());
}

export function lifecycleMessage(
  queued: JobMessage,
  action: "waiting" | "in_progress" | "completed",
  details: { runnerName: string | null; runnerId?: number | null; conclusion?: string | null },
): JobMessage {
  const payload = WorkflowJobPayloadSchema.parse(
    workflowJob(action, {
      repository: queued.job.repository,
      jobId: queued.job.id,
      labels: queued.job.labels,
    }),
  );
  payload.workflow_job.runner_name = details.runnerName;
  payload.workflow_job.runner_id = details.runnerId ?? null;
  payload.workflow_job.conclusion = action === "completed" ? (details.conclusion ?? "success") : null;
  payload.workflow_job.run_id = queued.job.runId;
  const kind = (
    { waiting: "job.waiting", in_progress: "job.in_progress", completed: "job.completed" } as const
  )[action];
  return toJobMessage(payload, kind, crypto.randomUUID(), Date.now());
}

export function ledgerOf(repository: string) {
  return ledgerFor(env.LEDGER, repository.split("/")[0] ?? "");
}

export interface Dispatched {
  message: JobMessage;
  runnerName: string;
  record: JobRecord;
  runner: RunnerRecord;
}

/**
 * A job dispatched `ageMs` ago: GitHub knows it (queued, in a run of its own), the consumer registered its runner
 * and started its sandbox.
 */
export async function dispatched(
  repository: string,
  options: { labels?: string[]; ageMs?: number; runId?: number } = {},
): Promise<Dispatched> {
  const message = queuedMessage(repository, options);
  await github().seed({
    jobs: [
      {
        id: message.job.id,
        repository,
        status: "queued",
        labels: message.job.labels,
        runId: message.job.runId,
      },
    ],
  });
  const age = options.ageMs ?? 0;
  const result = await runMessages([message], { now: () => Date.now() - age });
  if (result.explicitAcks.length !== 1) throw new Error("the consumer did not settle the job");
  const record = await ledgerOf(repository).getJob(message.job.id);
  if (record?.state !== "started" || record.runnerName === null) {
    throw new Error(`job ${message.job.id} was not started: ${JSON.stringify(record)}`);
  }
  const [runner] = (await ledgerOf(repository).runners(message.job.id)).filter(
    (candidate) => candidate.runnerName === record.runnerName,
  );
  if (runner === undefined) throw new Error("no runner row");
  return { message, runnerName: record.runnerName, record, runner };
}

/** A repository of a fresh owner: one ledger per test. */
export function freshRepository(): string {
  return `lc-${crypto.randomUUID().slice(0, 12)}/repo`;
}

/** One cycle of the owner's reconciler now (or at `now`); waits out a cycle the alarm may be running. */
export async function reconcile(repository: string, now?: number) {
  const ledger = ledgerOf(repository);
  for (let tries = 0; tries < 50; tries++) {
    const report = await ledger.reconcile(now === undefined ? {} : { now });
    if (report.ran) return report;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the reconciler stayed busy");
}

/** Polls until `check` passes (it throws while it does not), e.g. an `expect` on the emulators' state. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function registration(runnerName: string) {
  return (await github().runners()).find((runner) => runner.name === runnerName);
}

export async function sandboxOf(runnerName: string) {
  return (await sandboxes().sandboxes()).find((sandbox) => sandbox.name === runnerName);
}

export async function deletesOf(repository: string) {
  return (await github().requests()).filter(
    (request) => request.method === "DELETE" && request.path.includes(`/repos/${repository}/`),
  );
}

export async function jitsOf(repository: string) {
  return (await github().requests()).filter(
    (request) =>
      request.route?.endsWith("/generate-jitconfig") === true &&
      request.path.includes(`/repos/${repository}/`),
  );
}
