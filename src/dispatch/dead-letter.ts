/**
 * A `job.queued` message that ran out of retries: the job is marked failed, and whatever an attempt left behind
 * is removed — the runner registration (unless it is busy: then it is running a job, maybe another one) and any
 * sandbox started under its name (useless once its registration is gone).
 */
import type { DispatchConfig } from "../config.ts";
import type { GitHubClient } from "../github/client.ts";
import { runnerScopeForRepository } from "../github/scope.ts";
import type { JobMessage } from "../jobs/message.ts";
import { type JobLedger, runnerNameFor } from "../ledger/job-ledger.ts";
import type { Logger } from "../log.ts";
import type { SandboxProvider } from "../modal/provider.ts";

export interface DeadLetterDeps {
  config: DispatchConfig;
  github: GitHubClient;
  sandboxes: SandboxProvider;
  ledger: DurableObjectStub<JobLedger>;
  now: () => number;
  log: Logger;
  /** Sends parked jobs that a freed slot lets through back to the queue. */
  requeue: (messages: JobMessage[]) => Promise<void>;
}

export async function handleDeadLetter(
  deps: DeadLetterDeps,
  message: JobMessage,
  attempts: number,
): Promise<void> {
  const { job } = message;
  const log = deps.log.child({ jobId: job.id, repository: job.repository });
  if (message.kind !== "job.queued") {
    log.warn("lifecycle message dead-lettered", { kind: message.kind });
    return;
  }
  const before = await deps.ledger.getJob(job.id);
  const reason = `gave up after ${attempts} attempts${before?.lastError ? `: ${before.lastError}` : ""}`;
  const { record, release } = await deps.ledger.fail(job.id, reason, deps.now());
  await deps.requeue(release);
  if (record !== undefined && record.state !== "failed") {
    log.info("dead-lettered job already has a runner; nothing to clean", { state: record.state });
    return;
  }
  const runnerName = record?.runnerName ?? runnerNameFor(job.id, 1);
  const scope = runnerScopeForRepository(deps.config.github.runnerScope, job.repository);

  const runner = await deps.github.getRunnerByName(scope, runnerName);
  if (runner !== undefined) {
    const result = runner.busy ? "busy" : await deps.github.deleteRunner(scope, runner.id);
    if (result === "busy") {
      log.info("runner is busy; left alone", { runnerName, runnerId: runner.id });
      return;
    }
    log.info("runner deregistered", { runnerName, runnerId: runner.id, result });
  }
  const appId = await deps.sandboxes.ensureApp(deps.config.modal.appName, deps.config.modal.environment);
  for (const sandbox of await deps.sandboxes.listRunners(appId, { "runner-name": runnerName })) {
    await deps.sandboxes.terminate(sandbox.sandboxId);
    log.info("sandbox terminated", { runnerName, sandboxId: sandbox.sandboxId });
  }
  log.error("job failed", { runnerName, reason });
}
