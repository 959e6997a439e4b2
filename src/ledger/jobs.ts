/**
 * The jobs table: what dispatch and GitHub's lifecycle events do to one job. Functions over the object's SQLite
 * storage; the Durable Object (job-ledger.ts) calls them one request at a time, so each runs without interleaving
 * (there is no `await` in here).
 */
import type { JobMessage, QueuedJob } from "../jobs/message.ts";
import { HOT_QUERIES, hasFreeSlot, liveRunners } from "./capacity.ts";
import { type JobState, mayAdvance, needsRunner } from "./job-state.ts";
import { recordEnded } from "./retention.ts";
import { clip, JOB_COLUMNS, toJobRecord } from "./rows.ts";
import {
  addRunner,
  dropUnusedRunner,
  runnerNamed,
  runnersOfJob,
  setRunnerSize,
  sizeValues,
  updateRunner,
} from "./runners.ts";
import type { ClaimInput, ClaimResult, JobRecord, LifecycleInput, ParkInput, StartedInput } from "./types.ts";

/** Deadlines the ledger sets for the reconciler; read from the configuration by the object. */
export interface Deadlines {
  stuckMs: number;
  orphanGraceMs: number;
  runnerLifetimeMs: number;
}

/** How long a message we sent may go unclaimed before it is sent again (a send lost, a queue hiccup). */
export const LOST_MESSAGE_MS = 10 * 60_000;
/** After a sandbox's lifetime, give Modal this long to report it ended before we look. */
const LIFETIME_MARGIN_MS = 2 * 60_000;
/** A job parked for its configuration, or DISPATCH_PAUSED, is probed this often while that lasts. */
export const CONFIG_PROBE_MS = 5 * 60_000;
/** Waiting jobs released together are spread at this pace, never all in the same second. */
export const RELEASE_SPACING_MS = 50;

export function runnerNameFor(jobId: number, attempt: number): string {
  return `modal-${jobId}-${attempt}`;
}

export function getJob(sql: SqlStorage, jobId: number): JobRecord | undefined {
  const row = sql.exec(`SELECT ${JOB_COLUMNS} FROM jobs WHERE job_id = ?`, jobId).toArray()[0];
  return row === undefined ? undefined : toJobRecord(row);
}

export function messageOf(sql: SqlStorage, jobId: number): string | undefined {
  const row = sql
    .exec<{ message: string | null }>("SELECT message FROM jobs WHERE job_id = ?", jobId)
    .toArray()[0];
  return row?.message ?? undefined;
}

function requireJob(sql: SqlStorage, jobId: number): JobRecord {
  const record = getJob(sql, jobId);
  if (record === undefined) throw new Error(`job ${jobId} was not recorded`);
  return record;
}

function insertJob(
  sql: SqlStorage,
  job: QueuedJob,
  receivedAt: number,
  now: number,
  message: JobMessage | undefined,
): void {
  sql.exec(
    `INSERT INTO jobs (job_id, repository, run_id, run_attempt, labels, installation_id, state, received_at,
       updated_at, message)
     VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?) ON CONFLICT (job_id) DO NOTHING`,
    job.id,
    job.repository,
    job.runId,
    job.runAttempt,
    JSON.stringify(job.labels),
    job.installationId ?? null,
    receivedAt,
    now,
    message === undefined ? null : JSON.stringify(message),
  );
}

function park(sql: SqlStorage, jobId: number, reason: string, wakeAt: number | null, now: number): void {
  sql.exec(
    `UPDATE jobs SET parked_at = COALESCE(parked_at, ?), wait_reason = ?, wake_at = ?, released_at = NULL,
       lease_until = 0, updated_at = ? WHERE job_id = ?`,
    now,
    reason,
    wakeAt,
    now,
    jobId,
  );
}

const UNPARK = "parked_at = NULL, wait_reason = NULL, wake_at = NULL, released_at = NULL";

/**
 * Jobs that waited for a working configuration, or for a pause to end, go when a claim shows dispatch works again
 * (claims run only with a configuration that parses, and not while paused), spread out rather than all at once.
 */
function releaseWaiters(sql: SqlStorage, now: number): void {
  const waiting = sql.exec<{ job_id: number }>(HOT_QUERIES.probedWaiters).toArray();
  waiting.forEach((row, index) => {
    sql.exec(
      "UPDATE jobs SET wake_at = ? WHERE job_id = ?",
      now + 1000 + index * RELEASE_SPACING_MS,
      row.job_id,
    );
  });
}

/**
 * Parks a job that waits for something the ledger cannot watch (a configuration fix, DISPATCH_PAUSED being
 * unset): one waiting job of the kind is probed every few minutes; the first claim that works releases the rest.
 */
function parkProbed(sql: SqlStorage, jobId: number, reason: "config" | "paused", now: number): void {
  const probing = sql
    .exec<{ n: number }>(
      `SELECT COUNT(*) AS n FROM jobs WHERE parked_at IS NOT NULL AND wait_reason = ?
         AND wake_at IS NOT NULL AND job_id != ?`,
      reason,
      jobId,
    )
    .one().n;
  park(sql, jobId, reason, probing > 0 ? null : now + CONFIG_PROBE_MS, now);
}

/**
 * Takes the job for dispatch, once. A second claim while the first holds its lease is told to come back later
 * (a duplicate delivery, or the first consumer died and its message will be redelivered); a claim after the lease
 * ran out takes over where the first stopped; a queued delivery for a job that already has a runner asks for a
 * re-check (GitHub's "Redeliver" means "try again"); a failed job is tried again.
 */
export function claimJob(sql: SqlStorage, input: ClaimInput): ClaimResult {
  const { job, now } = input;
  insertJob(sql, job, input.receivedAt, now, input.message);
  const current = requireJob(sql, job.id);
  if (current.state === "started") {
    // Coalesced: a burst of duplicate deliveries asks for one re-check.
    sql.exec(
      `UPDATE jobs SET recheck = COALESCE(recheck, 'a queued delivery arrived for a job that has a runner'),
         check_at = MIN(COALESCE(check_at, ?), ?), updated_at = ? WHERE job_id = ?`,
      now,
      now,
      now,
      job.id,
    );
    return { outcome: "recheck", state: current.state };
  }
  // GitHub's Redeliver (or a new `queued` delivery) for a failed job is someone asking to try again; a message the
  // ledger sent itself (a wake, a resend that crossed the failure) is not.
  const retryAfterFailure = current.state === "failed" && input.message.hints?.fromLedger !== true;
  if (!needsRunner(current.state) && !retryAfterFailure) {
    return { outcome: "skip", state: current.state, reason: `job is already ${current.state}` };
  }
  if (current.state === "dispatching" && current.leaseUntil > now) {
    return { outcome: "busy", retryInMs: current.leaseUntil - now };
  }
  const resumed = current.state === "dispatching";
  if (!resumed) {
    if (input.paused === true) {
      sql.exec("UPDATE jobs SET message = ? WHERE job_id = ?", JSON.stringify(input.message), job.id);
      parkProbed(sql, job.id, "paused", now);
      return { outcome: "parked", reason: "paused" };
    }
    if (!hasFreeSlot(sql, now, input.limits)) {
      sql.exec("UPDATE jobs SET message = ? WHERE job_id = ?", JSON.stringify(input.message), job.id);
      park(sql, job.id, "cap", null, now);
      return {
        outcome: "parked",
        reason: "cap",
        liveRunners: liveRunners(sql, now, input.limits),
        maxRunners: input.limits.maxRunners,
      };
    }
    releaseWaiters(sql, now);
  }
  const attempt = resumed ? Math.max(current.attempts, 1) : current.attempts + 1;
  const runnerName = runnerNameFor(job.id, attempt);
  const reason = retryAfterFailure
    ? "queued again after the job had failed"
    : (current.dispatchReason ?? "first dispatch");
  sql.exec(
    `UPDATE jobs SET state = 'dispatching', runner_name = ?, runner_id = NULL, sandbox_id = NULL, attempts = ?,
       lease_until = ?, dispatch_started_at = COALESCE(dispatch_started_at, ?), dispatch_reason = ?,
       message = COALESCE(message, ?), ${UNPARK}, ended_at = NULL, recheck = NULL, check_at = ?, updated_at = ?
     WHERE job_id = ?`,
    runnerName,
    attempt,
    now + input.leaseMs,
    now,
    reason,
    JSON.stringify(input.message),
    now + input.leaseMs + LOST_MESSAGE_MS,
    now,
    job.id,
  );
  if (!resumed) {
    addRunner(sql, {
      runnerName,
      jobId: job.id,
      attempt,
      repository: job.repository,
      labels: job.labels,
      installationId: job.installationId ?? null,
      reason,
      now,
    });
  }
  return { outcome: "dispatch", runnerName, attempt, resumed, reason, cache: {} };
}

/** The runner is registered and its sandbox exists: dispatch is done. */
export function recordStarted(sql: SqlStorage, input: StartedInput, deadlines: Deadlines): void {
  sql.exec(
    `UPDATE jobs SET state = CASE WHEN state IN ('queued', 'dispatching') THEN 'started' ELSE state END,
       runner_name = ?, runner_id = COALESCE(?, runner_id), sandbox_id = COALESCE(?, sandbox_id),
       jit_issued_at = COALESCE(?, jit_issued_at), sandbox_created_at = ?, sandbox_cpu = ?, sandbox_memory_mib = ?,
       sandbox_gpu = ?, sandbox_gpu_count = ?, lease_until = 0, last_error = NULL,
       check_at = CASE WHEN state IN ('queued', 'dispatching') THEN ? ELSE check_at END, updated_at = ?
     WHERE job_id = ?`,
    input.runnerName,
    input.runnerId,
    input.sandboxId,
    input.jitIssuedAt,
    input.sandboxCreatedAt,
    ...sizeValues(input.size),
    input.sandboxCreatedAt + deadlines.stuckMs,
    input.now,
    input.jobId,
  );
  setRunnerSize(sql, input.runnerName, input.size);
  const job = requireJob(sql, input.jobId);
  // A job that ended while its runner was being made leaves that runner without a purpose: look at it now.
  const ended = job.endedAt !== null || job.state === "running";
  // The ids whatever GitHub said meanwhile (an `in_progress` can beat this call); the state only from `starting`.
  updateRunner(sql, input.runnerName, input.now, {
    runnerId: input.runnerId ?? undefined,
    sandboxId: input.sandboxId ?? undefined,
    requestedAt: input.sandboxCreatedAt,
    checkAt: ended ? input.now : input.sandboxCreatedAt + deadlines.runnerLifetimeMs + LIFETIME_MARGIN_MS,
  });
  updateRunner(sql, input.runnerName, input.now, { state: "live", onlyFrom: ["starting"] });
}

/** This attempt stopped and will be retried: give up the lease at once so the retry need not wait for it. */
export function releaseLease(sql: SqlStorage, jobId: number, error: string, now: number): void {
  sql.exec(
    "UPDATE jobs SET lease_until = 0, last_error = ?, updated_at = ? WHERE job_id = ? AND state = 'dispatching'",
    clip(error),
    now,
    jobId,
  );
}

/**
 * Dispatch gave up for good. What the attempt left behind (a registration, a sandbox) is marked for removal; the
 * caller removes it at once if it can, and the reconciler makes sure.
 */
export function failJob(sql: SqlStorage, jobId: number, reason: string, now: number): JobRecord | undefined {
  sql.exec(
    `UPDATE jobs SET state = 'failed', lease_until = 0, last_error = ?, ${UNPARK}, check_at = NULL, recheck = NULL,
       ended_at = ?, updated_at = ?
     WHERE job_id = ? AND state IN ('queued', 'dispatching', 'started')`,
    clip(reason),
    now,
    now,
    jobId,
  );
  const record = getJob(sql, jobId);
  if (record?.state === "failed") {
    recordEnded(sql, record, now);
    for (const runner of runnersOfJob(sql, jobId)) {
      if (runner.state === "starting" || runner.state === "live") {
        updateRunner(sql, runner.runnerName, now, {
          state: "retiring",
          retireReason: `its job failed: ${reason}`,
          checkAt: now,
        });
      }
    }
  }
  return record;
}

/**
 * The job's labels ask for a sandbox the operator does not allow (src/jobs/sizing.ts): it fails with the reason,
 * before anything is registered. `first` says whether this is news (the caller tells GitHub once); a redelivery
 * of a job refused for the same reason is not. A job GitHub already runs elsewhere, or that ended, stays as it is.
 */
export function refuseJob(
  sql: SqlStorage,
  input: { job: QueuedJob; receivedAt: number; message: JobMessage; reason: string; now: number },
): { first: boolean; state: JobState } {
  const { job, now } = input;
  insertJob(sql, job, input.receivedAt, now, input.message);
  const current = requireJob(sql, job.id);
  const reason = clip(input.reason);
  if (current.state === "failed") {
    if (current.lastError === reason) return { first: false, state: current.state };
    sql.exec("UPDATE jobs SET last_error = ?, updated_at = ? WHERE job_id = ?", reason, now, job.id);
    return { first: true, state: current.state };
  }
  if (current.state !== "queued") return { first: false, state: current.state };
  sql.exec(
    `UPDATE jobs SET state = 'failed', lease_until = 0, last_error = ?, ${UNPARK}, check_at = NULL, recheck = NULL,
       ended_at = ?, updated_at = ? WHERE job_id = ? AND state = 'queued'`,
    reason,
    now,
    now,
    job.id,
  );
  recordEnded(sql, requireJob(sql, job.id), now);
  return { first: true, state: "failed" };
}

/**
 * The job waits in the ledger (see `WaitReason`): a rate limit, a credential being re-checked, Modal saying it is
 * busy. A claim that made nothing yet is undone (its attempt number and runner row are given back); a resumed
 * claim keeps its attempt, whose registration may exist.
 */
export function parkJob(sql: SqlStorage, input: ParkInput & { runnerName?: string; fresh?: boolean }): void {
  const { jobId, now } = input;
  if (input.fresh === true && input.runnerName !== undefined && dropUnusedRunner(sql, input.runnerName)) {
    sql.exec(
      "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), runner_name = NULL WHERE job_id = ?",
      jobId,
    );
  }
  sql.exec(
    "UPDATE jobs SET message = ?, last_error = ?, check_at = NULL WHERE job_id = ?",
    JSON.stringify(input.message),
    clip(input.detail),
    jobId,
  );
  park(sql, jobId, input.reason, input.until, now);
}

/**
 * A job that cannot be dispatched because the dispatch variables do not parse waits here, not on the queue. One of
 * the waiting jobs is probed every few minutes; the first claim that works releases the rest.
 */
export function parkForConfig(sql: SqlStorage, message: JobMessage, detail: string, now: number): void {
  insertJob(sql, message.job, message.receivedAt, now, message);
  const current = requireJob(sql, message.job.id);
  if (!needsRunner(current.state) || current.leaseUntil > now) return;
  sql.exec(
    "UPDATE jobs SET message = ?, last_error = ? WHERE job_id = ?",
    JSON.stringify(message),
    clip(detail),
    message.job.id,
  );
  parkProbed(sql, message.job.id, "config", now);
}

export interface LifecycleOutcome {
  record: JobRecord;
  /** A runner GitHub named that we started for another job: that job needs a look now. */
  stolenFrom: number | undefined;
}

/**
 * What GitHub says happened to the job. Nothing is removed here: runners are not bound to jobs, so a finished or
 * cancelled job's runner may be running another one. What needs removing is marked due, and the reconciler —
 * which deregisters before it terminates — does it at once.
 */
export function recordLifecycle(
  sql: SqlStorage,
  input: LifecycleInput,
  deadlines: Deadlines,
): LifecycleOutcome {
  const { job, now } = input;
  insertJob(sql, job, input.receivedAt, now, undefined);
  const current = requireJob(sql, job.id);
  const ranOn = job.runnerName ?? null;
  let stolenFrom: number | undefined;
  const named = ranOn === null ? undefined : runnerNamed(sql, ranOn);

  if (input.kind === "job.in_progress") {
    if (mayAdvance(current.state, "running")) {
      sql.exec(
        `UPDATE jobs SET state = 'running', in_progress_at = ?, ran_on = ?, lease_until = 0, ${UNPARK},
           recheck = NULL, check_at = ?, updated_at = ? WHERE job_id = ?`,
        input.receivedAt,
        ranOn,
        input.receivedAt + deadlines.runnerLifetimeMs + LIFETIME_MARGIN_MS,
        now,
        job.id,
      );
    }
    if (named !== undefined) {
      updateRunner(sql, named.runnerName, now, {
        state: "busy",
        onlyFrom: ["starting", "live", "retiring"],
        busyJobId: job.id,
        busyAt: input.receivedAt,
      });
      if (named.jobId !== job.id) stolenFrom = named.jobId;
    }
  }
  if (input.kind === "job.completed") {
    const next: JobState = job.conclusion === "cancelled" ? "cancelled" : "finished";
    if (mayAdvance(current.state, next)) {
      sql.exec(
        `UPDATE jobs SET state = ?, completed_at = ?, conclusion = ?, ran_on = COALESCE(?, ran_on), lease_until = 0,
           ${UNPARK}, recheck = NULL, check_at = NULL, ended_at = ?, updated_at = ?
         WHERE job_id = ?`,
        next,
        input.receivedAt,
        job.conclusion ?? null,
        ranOn,
        now,
        now,
        job.id,
      );
      const ended = getJob(sql, job.id);
      if (ended !== undefined) recordEnded(sql, ended, now);
    }
    if (named !== undefined && named.state !== "gone") {
      // Ephemeral: the runner that ran it (whichever job it was started for) ends; its sandbox should follow.
      updateRunner(sql, named.runnerName, now, {
        state: "done",
        doneAt: now,
        busyJobId: job.id,
        checkAt: now + deadlines.orphanGraceMs,
      });
    }
  }
  if (input.kind !== "job.waiting") {
    // The job's own runners that did not run it have lost their purpose: the reconciler decides now whether
    // another job can use them or they go.
    for (const own of runnersOfJob(sql, job.id)) {
      if ((own.state === "live" || own.state === "starting") && own.runnerName !== ranOn) {
        updateRunner(sql, own.runnerName, now, { checkAt: now });
      }
    }
  }
  if (stolenFrom !== undefined) {
    const victim = getJob(sql, stolenFrom);
    if (victim !== undefined && (victim.state === "started" || victim.state === "dispatching")) {
      sql.exec(
        "UPDATE jobs SET recheck = ?, check_at = ?, updated_at = ? WHERE job_id = ?",
        `its runner ${ranOn} was taken by job ${job.id}`,
        now,
        now,
        stolenFrom,
      );
    }
  }
  return { record: requireJob(sql, job.id), stolenFrom };
}
