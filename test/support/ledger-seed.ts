/**
 * What the ledger's cost tests and benchmark put in a ledger: a history written straight into its Durable
 * Object's tables (finished jobs and the runners that ran them; a million rows take seconds, where claiming them
 * would take hours), and queued jobs to claim on top of it.
 */
import { runInDurableObject } from "cloudflare:test";
import type { JobMessage, QueuedJob } from "../../src/jobs/message.ts";
import { HOT_QUERIES } from "../../src/ledger/capacity.ts";
import type { JobLedger } from "../../src/ledger/job-ledger.ts";
import { uniqueJobId } from "./webhook.ts";

const FIRST_JOB_ID = 1_000_000_000;

export async function seedHistory(
  stub: DurableObjectStub<JobLedger>,
  rows: number,
  endedAt: number,
  options: { from?: number } = {},
): Promise<void> {
  const from = options.from ?? 0;
  await runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    state.storage.transactionSync(() => {
      for (let index = from; index < from + rows; index++) {
        const jobId = FIRST_JOB_ID + index;
        sql.exec(
          `INSERT INTO jobs (job_id, repository, run_id, run_attempt, labels, state, attempts, received_at,
             completed_at, ended_at, updated_at, conclusion)
           VALUES (?, 'acme/api', ?, 1, '["self-hosted","modal"]', 'finished', 1, ?, ?, ?, ?, 'success')`,
          jobId,
          jobId,
          endedAt - 60_000,
          endedAt,
          endedAt,
          endedAt,
        );
        sql.exec(
          `INSERT INTO runners (runner_name, job_id, attempt, repository, labels, reason, state, claimed_at,
             requested_at, done_at, updated_at)
           VALUES (?, ?, 1, 'acme/api', '[]', 'first dispatch', 'gone', ?, ?, ?, ?)`,
          `modal-${jobId}-1`,
          jobId,
          endedAt - 60_000,
          endedAt - 50_000,
          endedAt,
          endedAt,
        );
      }
    });
  });
}

export function queuedJob(login: string): QueuedJob {
  return {
    id: uniqueJobId(),
    runId: 1,
    runAttempt: 1,
    labels: ["self-hosted", "modal"],
    repository: `${login}/api`,
    owner: login,
    ownerType: "Organization",
    private: true,
  };
}

/** The claim the consumer makes for `job`, under a cap of `maxRunners` live runners. */
export function claimOf(job: QueuedJob, now: number, maxRunners: number | null = 50) {
  const message: JobMessage = { v: 1, kind: "job.queued", deliveryId: "d", receivedAt: now, job };
  return {
    job,
    receivedAt: now,
    now,
    leaseMs: 60_000,
    limits: { maxRunners, runnerLifetimeMs: 3_600_000 },
    message,
  };
}

/** Rows each of the claim's queries (HOT_QUERIES) reads in this ledger now, its bound values all 0. */
export function hotQueryRowsRead(sql: SqlStorage): Record<string, number> {
  const read: Record<string, number> = {};
  for (const [name, statement] of Object.entries(HOT_QUERIES)) {
    const cursor = sql.exec(statement, ...boundZeros(statement));
    cursor.toArray();
    read[name] = cursor.rowsRead;
  }
  return read;
}

/** As many zeros as `statement` has `?` placeholders. */
export function boundZeros(statement: string): number[] {
  return Array.from({ length: statement.split("?").length - 1 }, () => 0);
}
