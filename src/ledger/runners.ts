/** The runners table: one row per runner we started (see runner-state.ts for its life). */
import { RECONCILE_QUERIES } from "./reconcile-queries.ts";
import { clip, toRunnerRecord } from "./rows.ts";
import type { RunnerState } from "./runner-state.ts";
import type { RunnerRecord } from "./types.ts";
import type { SandboxSize } from "./usage.ts";

export interface NewRunner {
  runnerName: string;
  jobId: number;
  attempt: number;
  repository: string;
  labels: readonly string[];
  installationId: number | null;
  reason: string;
  now: number;
}

export function addRunner(sql: SqlStorage, runner: NewRunner): void {
  sql.exec(
    `INSERT INTO runners (runner_name, job_id, attempt, repository, labels, installation_id, reason, state,
       claimed_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'starting', ?, ?) ON CONFLICT (runner_name) DO NOTHING`,
    runner.runnerName,
    runner.jobId,
    runner.attempt,
    runner.repository,
    JSON.stringify(runner.labels),
    runner.installationId,
    runner.reason,
    runner.now,
    runner.now,
  );
}

/** The values of the `sandbox_cpu, sandbox_memory_mib, sandbox_gpu, sandbox_gpu_count` columns, in that order. */
export function sizeValues(
  size: SandboxSize | undefined,
): [number | null, number | null, string | null, number | null] {
  if (size === undefined) return [null, null, null, null];
  return [size.cpu, size.memoryMiB, size.gpu?.type ?? null, size.gpu?.count ?? null];
}

/** What its sandbox was requested with: what the day's aggregate prices once the runner is gone. */
export function setRunnerSize(sql: SqlStorage, runnerName: string, size: SandboxSize | undefined): void {
  sql.exec(
    `UPDATE runners SET sandbox_cpu = ?, sandbox_memory_mib = ?, sandbox_gpu = ?, sandbox_gpu_count = ?
     WHERE runner_name = ?`,
    ...sizeValues(size),
    runnerName,
  );
}

/** A runner of ours that GitHub or Modal showed us and the ledger had no row for (lost, or from a crash). */
export function addStray(sql: SqlStorage, runner: Omit<NewRunner, "attempt" | "labels">): void {
  sql.exec(
    `INSERT INTO runners (runner_name, job_id, attempt, repository, labels, installation_id, reason, state,
       claimed_at, check_at, updated_at)
     VALUES (?, ?, 0, ?, '[]', ?, ?, 'live', ?, ?, ?) ON CONFLICT (runner_name) DO NOTHING`,
    runner.runnerName,
    runner.jobId,
    runner.repository,
    runner.installationId,
    runner.reason,
    runner.now,
    runner.now,
    runner.now,
  );
}

export function runnerNamed(sql: SqlStorage, runnerName: string): RunnerRecord | undefined {
  const row = sql.exec("SELECT * FROM runners WHERE runner_name = ?", runnerName).toArray()[0];
  return row === undefined ? undefined : toRunnerRecord(row);
}

export function runnersOfJob(sql: SqlStorage, jobId: number): RunnerRecord[] {
  return sql
    .exec("SELECT * FROM runners WHERE job_id = ? ORDER BY attempt", jobId)
    .toArray()
    .map(toRunnerRecord);
}

/** Every runner not yet gone. */
export function runnersInFlight(sql: SqlStorage, limit = 5000): RunnerRecord[] {
  return sql.exec(RECONCILE_QUERIES.runnersInFlight, limit).toArray().map(toRunnerRecord);
}

export function dueRunners(sql: SqlStorage, now: number, limit: number): RunnerRecord[] {
  return sql.exec(RECONCILE_QUERIES.dueRunners, now, limit).toArray().map(toRunnerRecord);
}

/** Takes back a runner row whose claim made nothing (no registration): true when it was removed. */
export function dropUnusedRunner(sql: SqlStorage, runnerName: string): boolean {
  return (
    sql.exec(
      "DELETE FROM runners WHERE runner_name = ? AND state = 'starting' AND runner_id IS NULL",
      runnerName,
    ).rowsWritten > 0
  );
}

export interface RunnerPatch {
  state?: RunnerState;
  /** Apply the patch only while the runner is in one of these states. */
  onlyFrom?: readonly RunnerState[];
  runnerId?: number | null | undefined;
  sandboxId?: string | null | undefined;
  requestedAt?: number;
  busyJobId?: number | null;
  busyAt?: number | null;
  doneAt?: number;
  retireReason?: string;
  retireTries?: number;
  deregisteredAt?: number;
  terminatedAt?: number;
  sandboxGoneAt?: number | null;
  githubStatus?: string;
  githubSeenAt?: number;
  idleSince?: number | null;
  offlineSince?: number | null;
  absentSince?: number | null;
  checkAt?: number | null;
  lastError?: string | null;
}

const COLUMNS: Record<Exclude<keyof RunnerPatch, "onlyFrom">, string> = {
  state: "state",
  runnerId: "runner_id",
  sandboxId: "sandbox_id",
  requestedAt: "requested_at",
  busyJobId: "busy_job_id",
  busyAt: "busy_at",
  doneAt: "done_at",
  retireReason: "retire_reason",
  retireTries: "retire_tries",
  deregisteredAt: "deregistered_at",
  terminatedAt: "terminated_at",
  sandboxGoneAt: "sandbox_gone_at",
  githubStatus: "github_status",
  githubSeenAt: "github_seen_at",
  idleSince: "idle_since",
  offlineSince: "offline_since",
  absentSince: "absent_since",
  checkAt: "check_at",
  lastError: "last_error",
};

/**
 * Changes the given fields (undefined leaves a field alone; null clears it). A move to `retiring` also records
 * when; `gone` clears the deadline. Returns whether the row was changed.
 */
export function updateRunner(sql: SqlStorage, runnerName: string, now: number, patch: RunnerPatch): boolean {
  const sets: string[] = [];
  const values: (string | number | null)[] = [];
  for (const [key, column] of Object.entries(COLUMNS)) {
    const value: unknown = Reflect.get(patch, key);
    if (value === undefined) continue;
    sets.push(`${column} = ?`);
    values.push(
      typeof value === "string"
        ? key === "lastError"
          ? clip(value)
          : value
        : typeof value === "number"
          ? value
          : null,
    );
  }
  if (patch.state === "retiring") {
    sets.push("retire_at = COALESCE(retire_at, ?)");
    values.push(now);
  }
  if (patch.state === "gone" && patch.checkAt === undefined) sets.push("check_at = NULL");
  sets.push("updated_at = ?");
  values.push(now);
  let where = "runner_name = ?";
  values.push(runnerName);
  if (patch.onlyFrom !== undefined) {
    where += ` AND state IN (${patch.onlyFrom.map(() => "?").join(", ")})`;
    values.push(...patch.onlyFrom);
  }
  return sql.exec(`UPDATE runners SET ${sets.join(", ")} WHERE ${where}`, ...values).rowsWritten > 0;
}
