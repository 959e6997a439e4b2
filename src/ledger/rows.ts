/**
 * SQLite rows → records. Rows are parsed, not trusted: an object deployed by an older version may hold rows an
 * older migration wrote, and a parse failure is a loud bug rather than a silently wrong dispatch.
 */
import * as z from "zod/mini";
import { JOB_STATES } from "./job-state.ts";
import { RUNNER_STATES } from "./runner-state.ts";
import { type JobRecord, type RunnerRecord, WAIT_REASONS } from "./types.ts";
import type { SandboxSize } from "./usage.ts";

const Nullable = <T extends z.ZodMiniType>(schema: T) => z.nullable(schema);
const LabelsSchema = z.array(z.string());

/** The sandbox size columns of `jobs` and `runners`; all NULL in rows from before sizes were recorded. */
const SIZE_COLUMNS = {
  sandbox_cpu: Nullable(z.number()),
  sandbox_memory_mib: Nullable(z.number()),
  sandbox_gpu: Nullable(z.string()),
  sandbox_gpu_count: Nullable(z.number()),
};

function sizeOf(row: {
  sandbox_cpu: number | null;
  sandbox_memory_mib: number | null;
  sandbox_gpu: string | null;
  sandbox_gpu_count: number | null;
}): SandboxSize | null {
  if (row.sandbox_cpu === null || row.sandbox_memory_mib === null) return null;
  return {
    cpu: row.sandbox_cpu,
    memoryMiB: row.sandbox_memory_mib,
    gpu: row.sandbox_gpu === null ? null : { type: row.sandbox_gpu, count: row.sandbox_gpu_count ?? 1 },
  };
}

const JobRowSchema = z.object({
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
  parked_at: Nullable(z.number()),
  wait_reason: Nullable(z.enum(WAIT_REASONS)),
  wake_at: Nullable(z.number()),
  check_at: Nullable(z.number()),
  recheck: Nullable(z.string()),
  ran_on: Nullable(z.string()),
  dispatch_reason: Nullable(z.string()),
  ended_at: Nullable(z.number()),
  ...SIZE_COLUMNS,
});

export function toJobRecord(row: unknown): JobRecord {
  const r = JobRowSchema.parse(row);
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
    parkedAt: r.parked_at,
    waitReason: r.wait_reason,
    wakeAt: r.wake_at,
    checkAt: r.check_at,
    recheck: r.recheck,
    ranOn: r.ran_on,
    dispatchReason: r.dispatch_reason,
    endedAt: r.ended_at,
    size: sizeOf(r),
  };
}

/** The columns `toJobRecord` reads: listed, so that `SELECT *` never drags the stored message along. */
export const JOB_COLUMNS = Object.keys(JobRowSchema.shape).join(", ");

const RunnerRowSchema = z.object({
  runner_name: z.string(),
  job_id: z.number(),
  attempt: z.number(),
  repository: z.string(),
  labels: z.string(),
  installation_id: Nullable(z.number()),
  reason: z.string(),
  state: z.enum(RUNNER_STATES),
  runner_id: Nullable(z.number()),
  sandbox_id: Nullable(z.string()),
  claimed_at: z.number(),
  requested_at: Nullable(z.number()),
  busy_job_id: Nullable(z.number()),
  busy_at: Nullable(z.number()),
  done_at: Nullable(z.number()),
  retire_reason: Nullable(z.string()),
  retire_at: Nullable(z.number()),
  retire_tries: z.number(),
  deregistered_at: Nullable(z.number()),
  terminated_at: Nullable(z.number()),
  sandbox_gone_at: Nullable(z.number()),
  github_status: Nullable(z.string()),
  github_seen_at: Nullable(z.number()),
  idle_since: Nullable(z.number()),
  offline_since: Nullable(z.number()),
  absent_since: Nullable(z.number()),
  check_at: Nullable(z.number()),
  last_error: Nullable(z.string()),
  updated_at: z.number(),
  ...SIZE_COLUMNS,
});

export function toRunnerRecord(row: unknown): RunnerRecord {
  const r = RunnerRowSchema.parse(row);
  return {
    runnerName: r.runner_name,
    jobId: r.job_id,
    attempt: r.attempt,
    repository: r.repository,
    labels: LabelsSchema.parse(JSON.parse(r.labels)),
    installationId: r.installation_id,
    reason: r.reason,
    state: r.state,
    runnerId: r.runner_id,
    sandboxId: r.sandbox_id,
    claimedAt: r.claimed_at,
    requestedAt: r.requested_at,
    busyJobId: r.busy_job_id,
    busyAt: r.busy_at,
    doneAt: r.done_at,
    retireReason: r.retire_reason,
    retireAt: r.retire_at,
    retireTries: r.retire_tries,
    deregisteredAt: r.deregistered_at,
    terminatedAt: r.terminated_at,
    sandboxGoneAt: r.sandbox_gone_at,
    githubStatus: r.github_status,
    githubSeenAt: r.github_seen_at,
    idleSince: r.idle_since,
    offlineSince: r.offline_since,
    absentSince: r.absent_since,
    checkAt: r.check_at,
    lastError: r.last_error,
    updatedAt: r.updated_at,
    size: sizeOf(r),
  };
}

/** Errors are stored for operators; they are short and carry no secrets (clients never put one in a message). */
export function clip(text: string): string {
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
