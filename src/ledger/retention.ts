/**
 * Keeps the ledger's size — and so the cost of everything that reads it — flat as history grows. Every job that
 * ends is folded into its UTC day's row of `daily` at once (counts, latency histograms, sandbox seconds); rows of
 * jobs and runners that ended more than `LEDGER_RETENTION_DAYS` ago are deleted by the object's alarm, a bounded
 * batch at a time. The status page reads recent jobs from the rows and older days from `daily`.
 */
import * as z from "zod/mini";
import type { JobRecord, RunnerRecord } from "./types.ts";
import { addGpuSeconds, GpuSecondsSchema, type Usage, usageOf } from "./usage.ts";

/** Upper bounds (ms) of the latency histogram's buckets; the last bucket holds everything above. */
export const LATENCY_BUCKETS_MS = [
  1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
] as const;

const HistogramSchema = z.array(z.number());
const PRUNE_BATCH = 2_000;
export const DAY_MS = 24 * 60 * 60 * 1000;

export function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

function bucketOf(ms: number): number {
  const index = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return index === -1 ? LATENCY_BUCKETS_MS.length : index;
}

function addToHistogram(json: string, ms: number | undefined): string {
  const parsed = HistogramSchema.safeParse(JSON.parse(json));
  const counts = Array.from({ length: LATENCY_BUCKETS_MS.length + 1 }, (_, index) =>
    parsed.success ? (parsed.data[index] ?? 0) : 0,
  );
  if (ms !== undefined && ms >= 0) counts[bucketOf(ms)] = (counts[bucketOf(ms)] ?? 0) + 1;
  return JSON.stringify(counts);
}

function ensureDay(
  sql: SqlStorage,
  day: string,
): { pickup_ms: string; total_ms: string; gpu_seconds: string } {
  sql.exec("INSERT INTO daily (day) VALUES (?) ON CONFLICT (day) DO NOTHING", day);
  return sql
    .exec<{ pickup_ms: string; total_ms: string; gpu_seconds: string }>(
      "SELECT pickup_ms, total_ms, gpu_seconds FROM daily WHERE day = ?",
      day,
    )
    .one();
}

function gpuSecondsOf(json: string): Record<string, number> {
  return GpuSecondsSchema.parse(JSON.parse(json));
}

/** Folds one ended job into its day. */
export function recordEnded(sql: SqlStorage, job: JobRecord, now: number): void {
  const day = dayOf(job.endedAt ?? now);
  const row = ensureDay(sql, day);
  const pickup = job.inProgressAt === null ? undefined : job.inProgressAt - job.receivedAt;
  const total = job.completedAt === null ? undefined : job.completedAt - job.receivedAt;
  const column = job.state === "failed" ? "failed" : job.state === "cancelled" ? "cancelled" : "finished";
  sql.exec(
    `UPDATE daily SET ${column} = ${column} + 1, pickup_ms = ?, total_ms = ? WHERE day = ?`,
    addToHistogram(row.pickup_ms, pickup),
    addToHistogram(row.total_ms, total),
    day,
  );
}

/**
 * Folds one runner that is gone into its day: how long its sandbox was billed, at most its lifetime, and what
 * that was in resource-seconds of the size it was requested with.
 */
export function recordRunnerGone(
  sql: SqlStorage,
  runner: RunnerRecord,
  now: number,
  lifetimeMs: number,
): void {
  if (runner.requestedAt === null) return;
  const end = runner.sandboxGoneAt ?? runner.terminatedAt ?? runner.doneAt ?? now;
  const usage = usageOf(runner.size, Math.max(0, Math.min(end - runner.requestedAt, lifetimeMs)) / 1000);
  const day = dayOf(end);
  const row = ensureDay(sql, day);
  sql.exec(
    `UPDATE daily SET runners = runners + 1, sandbox_seconds = sandbox_seconds + ?,
       unsized_seconds = unsized_seconds + ?, cpu_seconds = cpu_seconds + ?,
       memory_gib_seconds = memory_gib_seconds + ?, gpu_seconds = ?
     WHERE day = ?`,
    usage.sandboxSeconds,
    usage.unsizedSeconds,
    usage.cpuSeconds,
    usage.memoryGibSeconds,
    JSON.stringify(addGpuSeconds(gpuSecondsOf(row.gpu_seconds), usage.gpuSeconds)),
    day,
  );
}

/** Deletes a bounded batch of rows past retention; returns how many went, so the caller knows to come back. */
export function prune(sql: SqlStorage, now: number, retentionMs: number): number {
  const cutoff = now - retentionMs;
  const jobs = sql.exec(
    `DELETE FROM jobs WHERE job_id IN (
       SELECT job_id FROM jobs WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT ?)`,
    cutoff,
    PRUNE_BATCH,
  ).rowsWritten;
  const runners = sql.exec(
    `DELETE FROM runners WHERE runner_name IN (
       SELECT runner_name FROM runners WHERE state = 'gone' AND updated_at < ? LIMIT ?)`,
    cutoff,
    PRUNE_BATCH,
  ).rowsWritten;
  // Daily rows are a few hundred bytes: kept a year.
  sql.exec("DELETE FROM daily WHERE day < ?", dayOf(now - 366 * DAY_MS));
  return jobs + runners;
}

/** One day's aggregate; its usage is that of the runners that went that day. */
export interface DailyRow extends Usage {
  day: string;
  finished: number;
  failed: number;
  cancelled: number;
  runners: number;
  pickupMs: number[];
  totalMs: number[];
}

export function dailyRows(sql: SqlStorage, since: string): DailyRow[] {
  return sql
    .exec<{
      day: string;
      finished: number;
      failed: number;
      cancelled: number;
      runners: number;
      sandbox_seconds: number;
      unsized_seconds: number;
      cpu_seconds: number;
      memory_gib_seconds: number;
      gpu_seconds: string;
      pickup_ms: string;
      total_ms: string;
    }>("SELECT * FROM daily WHERE day >= ? ORDER BY day", since)
    .toArray()
    .map((row) => ({
      day: row.day,
      finished: row.finished,
      failed: row.failed,
      cancelled: row.cancelled,
      runners: row.runners,
      sandboxSeconds: row.sandbox_seconds,
      unsizedSeconds: row.unsized_seconds,
      cpuSeconds: row.cpu_seconds,
      memoryGibSeconds: row.memory_gib_seconds,
      gpuSeconds: gpuSecondsOf(row.gpu_seconds),
      pickupMs: HistogramSchema.parse(JSON.parse(row.pickup_ms)),
      totalMs: HistogramSchema.parse(JSON.parse(row.total_ms)),
    }));
}
