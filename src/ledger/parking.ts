/**
 * Waking jobs that wait in the ledger with a due time (rate limits, a credential re-check, Modal busy, the
 * configuration probe, a resume). Due jobs go back to the queue with their stored message, each with its own delay
 * so that a crowd released together arrives spread out. A job stays parked until its message is claimed: one that
 * was sent and not claimed (a lost send) is due again `RESEND_AFTER_MS` later.
 */
import { RESEND_AFTER_MS } from "./capacity.ts";
import { RELEASE_SPACING_MS } from "./jobs.ts";

/** Jobs due within this horizon are sent now, with a queue delay up to their due time. */
export const WAKE_HORIZON_MS = 30_000;

export interface DueMessage {
  jobId: number;
  message: string;
  /** How long the queue should hold it (whole seconds: the Queue's unit). */
  delaySeconds: number;
}

export function takeDue(sql: SqlStorage, now: number, limit = 500): DueMessage[] {
  const rows = sql
    .exec<{ job_id: number; message: string | null; wake_at: number }>(
      `SELECT job_id, message, wake_at FROM jobs
       WHERE wake_at IS NOT NULL AND wake_at <= ? AND parked_at IS NOT NULL ORDER BY wake_at LIMIT ?`,
      now + WAKE_HORIZON_MS,
      limit,
    )
    .toArray();
  const due: DueMessage[] = [];
  for (const row of rows) {
    sql.exec(
      "UPDATE jobs SET wake_at = ?, released_at = ? WHERE job_id = ?",
      Math.max(row.wake_at, now) + RESEND_AFTER_MS,
      now,
      row.job_id,
    );
    if (row.message === null) continue;
    due.push({
      jobId: row.job_id,
      message: row.message,
      delaySeconds: Math.max(0, Math.round((row.wake_at - now) / 1000)),
    });
  }
  return due;
}

export function nextWake(sql: SqlStorage): number | undefined {
  const row = sql
    .exec<{ at: number | null }>("SELECT MIN(wake_at) AS at FROM jobs WHERE wake_at IS NOT NULL")
    .one();
  return row.at ?? undefined;
}

/** Resume: every job that waited for it is due, spread out. */
export function releasePaused(sql: SqlStorage, now: number): number {
  const rows = sql
    .exec<{ job_id: number }>(
      "SELECT job_id FROM jobs WHERE parked_at IS NOT NULL AND wait_reason = 'paused' ORDER BY parked_at",
    )
    .toArray();
  rows.forEach((row, index) => {
    sql.exec("UPDATE jobs SET wake_at = ? WHERE job_id = ?", now + index * RELEASE_SPACING_MS, row.job_id);
  });
  return rows.length;
}

export interface WaitingSummary {
  reason: string;
  count: number;
  oldest: number;
}

export function waitingByReason(sql: SqlStorage): WaitingSummary[] {
  return sql
    .exec<{ reason: string; count: number; oldest: number }>(
      `SELECT wait_reason AS reason, COUNT(*) AS count, MIN(parked_at) AS oldest FROM jobs
       WHERE parked_at IS NOT NULL GROUP BY wait_reason`,
    )
    .toArray();
}
