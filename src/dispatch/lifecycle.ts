/**
 * GitHub's word on a job (`waiting`, `in_progress`, `completed`), recorded in the ledger. Nothing is removed here:
 * runners are not bound to jobs, so a cancelled job's runner may be running another job. The ledger marks what
 * lost its purpose (a cancelled job's idle runner, the job whose runner another job took) as due at once, and its
 * reconciler — which deregisters before it terminates — acts within moments.
 */
import type { JobMessage } from "../jobs/message.ts";
import type { JobLedger } from "../ledger/job-ledger.ts";
import type { Logger } from "../log.ts";

export async function recordLifecycle(
  ledger: DurableObjectStub<JobLedger>,
  message: JobMessage,
  now: number,
  log: Logger,
  requeue: (messages: JobMessage[]) => Promise<void>,
): Promise<void> {
  if (message.kind === "job.queued") return;
  const { record, release, stolenFrom } = await ledger.recordLifecycle({
    job: message.job,
    kind: message.kind,
    receivedAt: message.receivedAt,
    now,
  });
  log.info("job lifecycle", {
    jobId: message.job.id,
    kind: message.kind,
    state: record.state,
    runnerName: message.job.runnerName ?? undefined,
    conclusion: message.job.conclusion ?? undefined,
  });
  if (stolenFrom !== undefined) {
    log.info("runner taken by another job", {
      jobId: message.job.id,
      runnerName: message.job.runnerName ?? undefined,
      startedFor: stolenFrom,
    });
  }
  // A finished runner frees a slot under MAX_RUNNERS_PER_OWNER: waiting jobs go back on the queue.
  await requeue(release);
}
