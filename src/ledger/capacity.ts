/**
 * The per-owner runner cap (`MAX_RUNNERS_PER_OWNER`). What counts is live sandboxes, not jobs: a runner started for
 * a job that was then cancelled still runs (and bills) until it takes another job or reaches its timeout. A runner
 * is live from its dispatch until GitHub reports a completed job on it, or its sandbox's lifetime has passed.
 *
 * Jobs over the cap are parked in the ledger with their queue message — not retried on the queue, where waiting
 * would use up the message's retries and end in the dead-letter queue — and sent again as slots free up. A parked
 * job stays parked until its message is claimed again: a release that is lost (a crash before the send) is sent
 * again by the next release after `RESEND_AFTER_MS`, and a duplicate is absorbed by the claim.
 */
export interface RunnerLimits {
  /** 0: no cap. */
  maxRunners: number;
  /** A sandbox is gone after this long at the latest (`SANDBOX_TIMEOUT_SECONDS`). */
  runnerLifetimeMs: number;
}

export const RESEND_AFTER_MS = 60_000;

export function liveRunners(sql: SqlStorage, now: number, limits: RunnerLimits): number {
  return sql
    .exec<{ live: number }>(
      `SELECT COUNT(*) AS live FROM jobs
       WHERE runner_done_at IS NULL AND state != 'failed' AND (
         (state = 'dispatching' AND lease_until > ?) OR
         (sandbox_created_at IS NOT NULL AND sandbox_created_at > ?))`,
      now,
      now - limits.runnerLifetimeMs,
    )
    .one().live;
}

export function hasFreeSlot(sql: SqlStorage, now: number, limits: RunnerLimits): boolean {
  return limits.maxRunners === 0 || liveRunners(sql, now, limits) < limits.maxRunners;
}

/**
 * Parked jobs that fit in the free slots now, oldest first, marked as released. Jobs released a moment ago and not
 * yet claimed hold their slot, so one completion does not release the whole queue.
 */
export function takeReleasable(sql: SqlStorage, now: number, limits: RunnerLimits): string[] {
  const pending = sql
    .exec<{ pending: number }>(
      "SELECT COUNT(*) AS pending FROM jobs WHERE parked_at IS NOT NULL AND released_at >= ?",
      now - RESEND_AFTER_MS,
    )
    .one().pending;
  const free = limits.maxRunners === 0 ? 1000 : limits.maxRunners - liveRunners(sql, now, limits) - pending;
  if (free <= 0) return [];
  const rows = sql
    .exec<{ job_id: number; parked_message: string }>(
      `SELECT job_id, parked_message FROM jobs
       WHERE parked_at IS NOT NULL AND (released_at IS NULL OR released_at < ?)
       ORDER BY parked_at LIMIT ?`,
      now - RESEND_AFTER_MS,
      free,
    )
    .toArray();
  for (const row of rows) sql.exec("UPDATE jobs SET released_at = ? WHERE job_id = ?", now, row.job_id);
  return rows.map((row) => row.parked_message);
}

export function parkedCount(sql: SqlStorage): number {
  return sql.exec<{ parked: number }>("SELECT COUNT(*) AS parked FROM jobs WHERE parked_at IS NOT NULL").one()
    .parked;
}
