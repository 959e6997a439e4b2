/**
 * The ledger: a SQLite-backed Durable Object holding, per job, where dispatch stands. One object per repository
 * owner (see `ledgerFor`): every job of an owner goes through one strongly consistent object, so a job id is
 * claimed once however many times GitHub or the Queue deliver it, while owners never wait on each other.
 *
 * Limits of that choice: one object serializes its owner's jobs (a few ms of SQLite work each, so some hundreds
 * per second per owner), and per-owner caches (Modal app and image ids, runner version) are filled once per owner.
 */
import { DurableObject } from "cloudflare:workers";
import { type JobMessage, JobMessageSchema } from "../jobs/message.ts";
import * as z from "zod/mini";
import { JOB_STATES, type JobState, mayAdvance, needsRunner } from "./job-state.ts";
import { hasFreeSlot, liveRunners, parkedCount, type RunnerLimits, takeReleasable } from "./capacity.ts";
import { migrate } from "./schema.ts";
import type {
  CacheEntry,
  ClaimInput,
  ClaimResult,
  JobRecord,
  LifecycleInput,
  StartedInput,
} from "./types.ts";

const Nullable = <T extends z.ZodMiniType>(schema: T) => z.nullable(schema);

const RowSchema = z.object({
  job_id: z.number(),
  repository: z.string(),
  run_id: z.number(),
  run_attempt: z.number(),
  labels: z.string(),
  installation_id: Nullable(z.number()),
  state: z.enum(JOB_STATES),
  runner_name: Nullable(z.string()),
  runner_id: Nullable(z.number()),
  sandbox_id: Nullable(z.string()),
  attempts: z.number(),
  lease_until: z.number(),
  received_at: z.number(),
  dispatch_started_at: Nullable(z.number()),
  jit_issued_at: Nullable(z.number()),
  sandbox_created_at: Nullable(z.number()),
  in_progress_at: Nullable(z.number()),
  completed_at: Nullable(z.number()),
  conclusion: Nullable(z.string()),
  last_error: Nullable(z.string()),
  updated_at: z.number(),
  runner_done_at: Nullable(z.number()),
  parked_at: Nullable(z.number()),
});

const LabelsSchema = z.array(z.string());
const LimitsSchema = z.object({ maxRunners: z.number(), runnerLifetimeMs: z.number() });
const LIMITS_KEY = "ledger.limits";
const DAY_MS = 24 * 60 * 60 * 1000;
/** How often parked jobs are looked at when no completion frees a slot. */
const PARKED_RECHECK_MS = 60_000;

function toRecord(row: unknown): JobRecord {
  const r = RowSchema.parse(row);
  return {
    jobId: r.job_id,
    repository: r.repository,
    runId: r.run_id,
    runAttempt: r.run_attempt,
    labels: LabelsSchema.parse(JSON.parse(r.labels)),
    installationId: r.installation_id,
    state: r.state,
    runnerName: r.runner_name,
    runnerId: r.runner_id,
    sandboxId: r.sandbox_id,
    attempts: r.attempts,
    leaseUntil: r.lease_until,
    receivedAt: r.received_at,
    dispatchStartedAt: r.dispatch_started_at,
    jitIssuedAt: r.jit_issued_at,
    sandboxCreatedAt: r.sandbox_created_at,
    inProgressAt: r.in_progress_at,
    completedAt: r.completed_at,
    conclusion: r.conclusion,
    lastError: r.last_error,
    updatedAt: r.updated_at,
    runnerDoneAt: r.runner_done_at,
    parkedAt: r.parked_at,
  };
}

/** Runner names are derived from the job id, so every attempt at one job agrees on the name. */
export function runnerNameFor(jobId: number, attempt: number): string {
  return `modal-${jobId}-${attempt}`;
}

/** Errors are stored for operators; they are short and carry no secrets (clients never put one in a message). */
function clip(text: string): string {
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

export class JobLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql);
  }

  private row(jobId: number): JobRecord | undefined {
    const row = this.sql.exec("SELECT * FROM jobs WHERE job_id = ?", jobId).toArray()[0];
    return row === undefined ? undefined : toRecord(row);
  }

  private insert(job: ClaimInput["job"], state: JobState, receivedAt: number, now: number): void {
    this.sql.exec(
      `INSERT INTO jobs (job_id, repository, run_id, run_attempt, labels, installation_id, state, received_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      job.id,
      job.repository,
      job.runId,
      job.runAttempt,
      JSON.stringify(job.labels),
      job.installationId ?? null,
      state,
      receivedAt,
      now,
    );
  }

  private cacheEntries(now: number): Record<string, string> {
    const entries: Record<string, string> = {};
    for (const row of this.sql.exec<{ key: string; value: string }>(
      "SELECT key, value FROM cache WHERE expires_at > ?",
      now,
    )) {
      entries[row.key] = row.value;
    }
    return entries;
  }

  /**
   * Takes the job for dispatch, once. A second claim while the first holds its lease is told to come back later
   * (it is a duplicate delivery, or the first consumer died and its message will be redelivered); a claim after
   * the lease ran out takes over where the first stopped; a claim once a runner started is a no-op.
   */
  async claim(input: ClaimInput): Promise<ClaimResult> {
    const { job, now } = input;
    const existing = this.row(job.id);
    if (existing === undefined) this.insert(job, "queued", input.receivedAt, now);
    const current = existing ?? this.row(job.id);
    if (current === undefined) throw new Error(`job ${job.id} was not recorded`);

    if (!needsRunner(current.state)) {
      return { outcome: "skip", state: current.state, reason: `job is already ${current.state}` };
    }
    if (current.state === "dispatching" && current.leaseUntil > now) {
      return { outcome: "busy", retryInMs: current.leaseUntil - now };
    }
    const resumed = current.state === "dispatching";
    if (!resumed) {
      this.rememberLimits(input.limits, now);
      if (!hasFreeSlot(this.sql, now, input.limits)) {
        this.sql.exec(
          `UPDATE jobs SET parked_at = COALESCE(parked_at, ?), parked_message = ?, released_at = NULL, updated_at = ?
           WHERE job_id = ?`,
          now,
          JSON.stringify(input.message),
          now,
          job.id,
        );
        await this.ensureAlarm(now);
        return {
          outcome: "parked",
          liveRunners: liveRunners(this.sql, now, input.limits),
          maxRunners: input.limits.maxRunners,
        };
      }
    }
    const attempt = Math.max(current.attempts, 1);
    const runnerName = runnerNameFor(job.id, attempt);
    this.sql.exec(
      `UPDATE jobs SET state = 'dispatching', runner_name = ?, attempts = ?, lease_until = ?,
         dispatch_started_at = COALESCE(dispatch_started_at, ?), parked_at = NULL, parked_message = NULL,
         released_at = NULL, updated_at = ? WHERE job_id = ?`,
      runnerName,
      attempt,
      now + input.leaseMs,
      now,
      now,
      job.id,
    );
    const { [LIMITS_KEY]: _limits, ...cache } = this.cacheEntries(now);
    return { outcome: "dispatch", runnerName, attempt, resumed, cache };
  }

  /** The runner is registered and its sandbox exists: dispatch is done. */
  recordStarted(input: StartedInput): void {
    this.sql.exec(
      `UPDATE jobs SET state = CASE WHEN state IN ('queued', 'dispatching') THEN 'started' ELSE state END,
         runner_name = ?, runner_id = COALESCE(?, runner_id), sandbox_id = COALESCE(?, sandbox_id),
         jit_issued_at = COALESCE(?, jit_issued_at), sandbox_created_at = ?, lease_until = 0, last_error = NULL,
         updated_at = ?
       WHERE job_id = ?`,
      input.runnerName,
      input.runnerId,
      input.sandboxId,
      input.jitIssuedAt,
      input.sandboxCreatedAt,
      input.now,
      input.jobId,
    );
  }

  /** This attempt stopped and will be retried: give up the lease at once so the retry need not wait for it. */
  release(jobId: number, error: string, now: number): void {
    this.sql.exec(
      "UPDATE jobs SET lease_until = 0, last_error = ?, updated_at = ? WHERE job_id = ? AND state = 'dispatching'",
      clip(error),
      now,
      jobId,
    );
  }

  /**
   * Dispatch gave up for good. Returns the record, so the caller can deregister what was made, and the parked jobs
   * the freed slot lets through, for the caller to send to the queue.
   */
  async fail(
    jobId: number,
    reason: string,
    now: number,
  ): Promise<{ record: JobRecord | undefined; release: JobMessage[] }> {
    this.sql.exec(
      `UPDATE jobs SET state = 'failed', lease_until = 0, last_error = ?, parked_at = NULL, parked_message = NULL,
         updated_at = ?
       WHERE job_id = ? AND state IN ('queued', 'dispatching')`,
      clip(reason),
      now,
      jobId,
    );
    return { record: this.row(jobId), release: await this.releasable(now) };
  }

  /**
   * What GitHub says happened to the job. Never terminates anything: runners are not bound to jobs. Returns the
   * parked jobs a finished runner lets through, for the caller to send to the queue.
   */
  async recordLifecycle(input: LifecycleInput): Promise<{ record: JobRecord; release: JobMessage[] }> {
    const { job, now } = input;
    if (this.row(job.id) === undefined) this.insert(job, "queued", input.receivedAt, now);
    const current = this.row(job.id);
    if (current === undefined) throw new Error(`job ${job.id} was not recorded`);
    if (input.kind === "job.in_progress" && mayAdvance(current.state, "running")) {
      this.sql.exec(
        "UPDATE jobs SET state = 'running', in_progress_at = ?, updated_at = ? WHERE job_id = ?",
        input.receivedAt,
        now,
        job.id,
      );
    }
    if (input.kind === "job.completed") {
      const next: JobState = job.conclusion === "cancelled" ? "cancelled" : "finished";
      if (mayAdvance(current.state, next)) {
        this.sql.exec(
          `UPDATE jobs SET state = ?, completed_at = ?, conclusion = ?, lease_until = 0, updated_at = ?
           WHERE job_id = ?`,
          next,
          input.receivedAt,
          job.conclusion ?? null,
          now,
          job.id,
        );
      }
      // A job cancelled while parked needs no runner any more.
      this.sql.exec(
        "UPDATE jobs SET parked_at = NULL, parked_message = NULL WHERE job_id = ? AND state IN ('finished', 'cancelled')",
        job.id,
      );
      // The runner that ran it (whichever job it was started for) is ephemeral: it is ending.
      if (job.runnerName) {
        this.sql.exec(
          "UPDATE jobs SET runner_done_at = ? WHERE runner_name = ? AND runner_done_at IS NULL",
          now,
          job.runnerName,
        );
      }
    }
    const updated = this.row(job.id);
    if (updated === undefined) throw new Error(`job ${job.id} was not recorded`);
    return { record: updated, release: input.kind === "job.completed" ? await this.releasable(now) : [] };
  }

  putCache(entries: CacheEntry[], now: number): void {
    for (const entry of entries) {
      this.sql.exec(
        "INSERT INTO cache (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        entry.key,
        entry.value,
        now + entry.ttlMs,
      );
    }
  }

  dropCache(keys: string[]): void {
    for (const key of keys) this.sql.exec("DELETE FROM cache WHERE key = ?", key);
  }

  /** The safety net for lost completions and lost sends: lifetimes run out, and parked jobs are looked at again. */
  override async alarm(): Promise<void> {
    const release = await this.releasable(Date.now());
    if (release.length > 0) {
      await this.env.JOBS_QUEUE.sendBatch(release.map((body) => ({ body, contentType: "json" as const })));
    }
  }

  private rememberLimits(limits: RunnerLimits, now: number): void {
    this.putCache([{ key: LIMITS_KEY, value: JSON.stringify(limits), ttlMs: 30 * DAY_MS }], now);
  }

  private limits(now: number): RunnerLimits | undefined {
    const stored = this.cacheEntries(now)[LIMITS_KEY];
    if (stored === undefined) return undefined;
    const parsed = LimitsSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : undefined;
  }

  private async ensureAlarm(now: number): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(now + PARKED_RECHECK_MS);
  }

  /** Parked jobs that now fit, marked released; keeps the alarm armed while any job stays parked. */
  private async releasable(now: number): Promise<JobMessage[]> {
    const limits = this.limits(now);
    if (limits === undefined || parkedCount(this.sql) === 0) return [];
    const messages = takeReleasable(this.sql, now, limits).flatMap((text) => {
      const parsed = JobMessageSchema.safeParse(JSON.parse(text));
      return parsed.success ? [parsed.data] : [];
    });
    if (parkedCount(this.sql) > 0) await this.ensureAlarm(now);
    return messages;
  }

  getJob(jobId: number): JobRecord | null {
    return this.row(jobId) ?? null;
  }

  listJobs(states: JobState[], limit = 100): JobRecord[] {
    const placeholders = states.map(() => "?").join(", ");
    return this.sql
      .exec(
        `SELECT * FROM jobs WHERE state IN (${placeholders}) ORDER BY updated_at LIMIT ?`,
        ...states,
        limit,
      )
      .toArray()
      .map(toRecord);
  }
}

/** The ledger object of a repository owner (logins are case-insensitive on GitHub). */
export function ledgerFor(
  namespace: DurableObjectNamespace<JobLedger>,
  owner: string,
): DurableObjectStub<JobLedger> {
  return namespace.get(namespace.idFromName(`owner:${owner.toLowerCase()}`));
}
