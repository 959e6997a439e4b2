/**
 * A `job.queued` message whose failed attempts ran out (the queue's `max_retries`; waits in the ledger spend
 * none): the job is marked failed with the last error, and whatever its attempts left is removed — every runner
 * of the job that GitHub does not report busy (a busy one runs a job, maybe another one), through retire.ts.
 */
import type { DispatchConfig } from "../config/dispatch.ts";
import type { GitHubClient } from "../github/client.ts";
import type { JobMessage } from "../jobs/message.ts";
import { type JobLedger, runnerNameFor } from "../ledger/job-ledger.ts";
import type { Logger } from "../log.ts";
import { retireRunner } from "../reconcile/retire.ts";
import type { SandboxProvider } from "../sandboxes/provider.ts";

export interface DeadLetterDeps {
  config: DispatchConfig;
  github: GitHubClient;
  sandboxes: SandboxProvider;
  ledger: DurableObjectStub<JobLedger>;
  now: () => number;
  log: Logger;
  /** Sends waiting jobs that a freed slot lets through back to the queue. */
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
    // The reconciler's deadlines catch what this delivery would have told us.
    log.warn("lifecycle message dead-lettered", { kind: message.kind });
    return;
  }
  const before = await deps.ledger.getJob(job.id);
  const reason = `gave up after ${attempts} failed attempts${before?.lastError ? `: ${before.lastError}` : ""}`;
  const { record, release } = await deps.ledger.fail(job.id, reason, deps.now());
  await deps.requeue(release);
  if (record !== undefined && record.state !== "failed") {
    log.info("dead-lettered job already has a runner; nothing to clean", { state: record.state });
    return;
  }
  const known = (await deps.ledger.runners(job.id)).filter((runner) => runner.state !== "gone");
  // Without a ledger row (it was lost), the first attempt's name is where anything made would be.
  const targets =
    known.length > 0
      ? known.filter((runner) => runner.state !== "busy" && runner.state !== "done")
      : [{ runnerName: runnerNameFor(job.id, 1), runnerId: null, sandboxId: null }];
  const { appName, environment } = deps.config.modal;
  let appId: Promise<string> | undefined;
  for (const target of targets) {
    const outcome = await retireRunner(
      {
        github: deps.github,
        sandboxes: deps.sandboxes,
        appId: () => (appId ??= deps.sandboxes.ensureApp(appName, environment)),
        scopeKind: deps.config.github.runnerScope,
        log,
      },
      {
        runnerName: target.runnerName,
        repository: job.repository,
        runnerId: target.runnerId,
        sandboxId: target.sandboxId,
      },
    );
    if (outcome.kind === "retired") await deps.ledger.runnerRemoved(target.runnerName, deps.now());
  }
  log.error("job failed", { reason });
}
