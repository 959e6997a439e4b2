/**
 * The ledger's storage as the reconciler sees it: named, synchronous operations over one owner's SQLite tables.
 * The Durable Object builds one per instance; nothing here awaits, so each call is atomic within the object.
 */
import { type JobMessage, JobMessageSchema, type QueuedJob } from "../jobs/message.ts";
import type { Deadlines } from "./jobs.ts";
import {
  failJob,
  getJob,
  type LifecycleOutcome,
  LOST_MESSAGE_MS,
  messageOf,
  recordLifecycle,
} from "./jobs.ts";
import { deleteMeta, getMetaNumber, setMeta } from "./meta.ts";
import { RECONCILE_QUERIES } from "./reconcile-queries.ts";
import { recordRunnerGone } from "./retention.ts";
import { clip, toJobRecord } from "./rows.ts";
import {
  addStray,
  dueRunners,
  type RunnerPatch,
  runnerNamed,
  runnersInFlight,
  runnersOfJob,
  updateRunner,
} from "./runners.ts";
import type { JobRecord, LifecycleInput, RunnerRecord } from "./types.ts";

const CYCLE_LEASE_KEY = "cycle.lease";
const SWEEP_KEY = "cycle.sweep_at";

export type Redispatch =
  | { kind: "sent"; message: JobMessage; attempt: number }
  | { kind: "failed"; reason: string }
  | { kind: "skipped" };

export class LedgerStore {
  constructor(
    private readonly sql: SqlStorage,
    readonly deadlines: Deadlines,
  ) {}

  job(jobId: number): JobRecord | undefined {
    return getJob(this.sql, jobId);
  }

  runner(runnerName: string): RunnerRecord | undefined {
    return runnerNamed(this.sql, runnerName);
  }

  runnersOfJob(jobId: number): RunnerRecord[] {
    return runnersOfJob(this.sql, jobId);
  }

  runnersInFlight(): RunnerRecord[] {
    return runnersInFlight(this.sql);
  }

  dueRunners(now: number, limit = 500): RunnerRecord[] {
    return dueRunners(this.sql, now, limit);
  }

  dueJobs(now: number, limit = 200): JobRecord[] {
    return this.sql.exec(RECONCILE_QUERIES.dueJobs, now, limit).toArray().map(toJobRecord);
  }

  /** Jobs that have a runner on the way and have not been picked up: what idle runners are for. */
  jobsAwaitingPickup(limit = 5000): JobRecord[] {
    return this.sql.exec(RECONCILE_QUERIES.jobsAwaitingPickup, limit).toArray().map(toJobRecord);
  }

  updateRunner(runnerName: string, now: number, patch: RunnerPatch): boolean {
    return updateRunner(this.sql, runnerName, now, patch);
  }

  /** The runner is gone for good: its day's aggregate gets its sandbox time. */
  runnerGone(runnerName: string, now: number): void {
    const runner = this.runner(runnerName);
    if (runner === undefined || runner.state === "gone") return;
    updateRunner(this.sql, runnerName, now, { state: "gone" });
    recordRunnerGone(this.sql, runner, now, this.deadlines.runnerLifetimeMs);
  }

  addStray(input: {
    runnerName: string;
    jobId: number;
    repository: string;
    installationId: number | null;
    reason: string;
    now: number;
  }): void {
    addStray(this.sql, input);
  }

  recordLifecycle(input: LifecycleInput): LifecycleOutcome {
    return recordLifecycle(this.sql, input, this.deadlines);
  }

  setJobCheck(jobId: number, at: number | null, now: number): void {
    this.sql.exec(
      "UPDATE jobs SET check_at = ?, recheck = NULL, updated_at = ? WHERE job_id = ?",
      at,
      now,
      jobId,
    );
  }

  setJobError(jobId: number, error: string, now: number): void {
    this.sql.exec("UPDATE jobs SET last_error = ?, updated_at = ? WHERE job_id = ?", clip(error), now, jobId);
  }

  failJob(jobId: number, reason: string, now: number): JobRecord | undefined {
    return failJob(this.sql, jobId, reason, now);
  }

  /** The stored queue message of a job, parsed; undefined if there is none or it does not parse. */
  message(jobId: number): JobMessage | undefined {
    const text = messageOf(this.sql, jobId);
    if (text === undefined) return undefined;
    const parsed = JobMessageSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  }

  /**
   * The job needs another runner: back to `queued` with the reason, and its stored message to send — unless it
   * has had `maxAttempts` runners already, in which case it fails, saying so.
   */
  redispatch(jobId: number, reason: string, maxAttempts: number, now: number): Redispatch {
    const job = this.job(jobId);
    if (job === undefined || (job.state !== "started" && job.state !== "dispatching"))
      return { kind: "skipped" };
    if (job.attempts >= maxAttempts) {
      const failure = `no runner took it after ${job.attempts} runners; last: ${reason}`;
      this.failJob(jobId, failure, now);
      return { kind: "failed", reason: failure };
    }
    const message = this.message(jobId);
    if (message === undefined) {
      this.failJob(jobId, `needs another runner (${reason}) but its queue message was not kept`, now);
      return { kind: "failed", reason: "no stored message" };
    }
    this.sql.exec(
      `UPDATE jobs SET state = 'queued', dispatch_reason = ?, lease_until = 0, recheck = NULL, check_at = ?,
         updated_at = ? WHERE job_id = ?`,
      clip(reason),
      now + LOST_MESSAGE_MS,
      now,
      jobId,
    );
    return { kind: "sent", message, attempt: job.attempts + 1 };
  }

  /** The job's message was sent and may have been lost: look again later. */
  resendDue(jobId: number, now: number): JobMessage | undefined {
    this.sql.exec(
      "UPDATE jobs SET check_at = ?, updated_at = ? WHERE job_id = ?",
      now + LOST_MESSAGE_MS,
      now,
      jobId,
    );
    return this.message(jobId);
  }

  /** One cycle at a time: a second one (the alarm and `POST /api/reconcile` together) returns at once. */
  acquireCycle(now: number, leaseMs: number): boolean {
    const held = getMetaNumber(this.sql, CYCLE_LEASE_KEY);
    if (held !== undefined && held > now) return false;
    setMeta(this.sql, CYCLE_LEASE_KEY, String(now + leaseMs));
    return true;
  }

  releaseCycle(): void {
    deleteMeta(this.sql, CYCLE_LEASE_KEY);
  }

  sweepAt(): number | undefined {
    return getMetaNumber(this.sql, SWEEP_KEY);
  }

  setSweepAt(at: number | undefined): void {
    if (at === undefined) deleteMeta(this.sql, SWEEP_KEY);
    else setMeta(this.sql, SWEEP_KEY, String(at));
  }

  /** The earliest deadline of any job or runner, for the alarm. */
  nextCheck(): number | undefined {
    const jobs = this.sql.exec<{ at: number | null }>(RECONCILE_QUERIES.nextJobCheck).one().at;
    const runners = this.sql.exec<{ at: number | null }>(RECONCILE_QUERIES.nextRunnerCheck).one().at;
    const candidates = [jobs, runners].filter((value): value is number => value !== null);
    return candidates.length === 0 ? undefined : Math.min(...candidates);
  }
}

/** A `QueuedJob` as a lifecycle call needs it, from what the ledger knows of the job. */
export function queuedJobOf(owner: string, job: JobRecord, extra: Partial<QueuedJob> = {}): QueuedJob {
  return {
    id: job.jobId,
    runId: job.runId,
    runAttempt: job.runAttempt,
    labels: job.labels,
    repository: job.repository,
    owner,
    ownerType: "Organization",
    private: true,
    ...(job.installationId === null ? {} : { installationId: job.installationId }),
    ...extra,
  };
}
