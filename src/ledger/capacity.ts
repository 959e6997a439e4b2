/**
 * The per-owner runner cap (`MAX_RUNNERS_PER_OWNER`). What counts is live sandboxes, not jobs: a runner started
 * for a job that was then cancelled still bills until the reconciler removes it. A runner counts from its claim
 * until GitHub reports a completed job on it, the reconciler removed it, Modal stops listing its sandbox, or its
 * sandbox's lifetime has passed.
 *
 * Jobs over the cap wait in the ledger with their queue message — not on the queue, where waiting would use up
 * the message's retries and end in the dead-letter queue — and are sent again as slots free up. A waiting job
 * stays parked until its message is claimed again: a release that is lost (a crash before the send) is sent again
 * by the next release after `RESEND_AFTER_MS`, and a duplicate is absorbed by the claim.
 *
 * Every query here carries `state != 'gone'` (or `parked_at IS NOT NULL`) literally: that is what lets SQLite use
 * the partial indexes, so the cost follows the runners and jobs in flight, not the owner's history.
 */
export interface RunnerLimits {
  /** null: no cap; 0: no runner starts. */
  maxRunners: number | null;
  /** A sandbox is gone after this long at the latest (`SANDBOX_TIMEOUT_SECONDS`). */
  runnerLifetimeMs: number;
}

export const RESEND_AFTER_MS = 60_000;

/** The statements a claim runs against history-sized tables; their query plans are held to indexes in a test. */
export const HOT_QUERIES = {
  liveRunners: `SELECT COUNT(*) AS live FROM runners
       WHERE state != 'gone' AND state != 'done' AND sandbox_gone_at IS NULL
         AND NOT (state = 'retiring' AND requested_at IS NULL)
         AND (requested_at IS NULL OR requested_at > ?)`,
  pendingReleases: `SELECT COUNT(*) AS pending FROM jobs
       WHERE parked_at IS NOT NULL AND wait_reason = 'cap' AND released_at >= ?`,
  releasable: `SELECT job_id, message FROM jobs
       WHERE parked_at IS NOT NULL AND wait_reason = 'cap' AND (released_at IS NULL OR released_at < ?)
       ORDER BY parked_at LIMIT ?`,
  capWaiting: "SELECT COUNT(*) AS parked FROM jobs WHERE parked_at IS NOT NULL AND wait_reason = 'cap'",
  probedWaiters: `SELECT job_id FROM jobs WHERE parked_at IS NOT NULL AND wait_reason IN ('config', 'paused')
       ORDER BY parked_at LIMIT 1000`,
} as const;

export function liveRunners(sql: SqlStorage, now: number, limits: RunnerLimits): number {
  return sql.exec<{ live: number }>(HOT_QUERIES.liveRunners, now - limits.runnerLifetimeMs).one().live;
}

export function hasFreeSlot(sql: SqlStorage, now: number, limits: RunnerLimits): boolean {
  return limits.maxRunners === null || liveRunners(sql, now, limits) < limits.maxRunners;
}

/**
 * Jobs waiting for a slot that fit in the free slots now, oldest first, marked as released. Jobs released a
 * moment ago and not yet claimed hold their slot, so one completion does not release the whole queue.
 */
export function takeReleasable(sql: SqlStorage, now: number, limits: RunnerLimits): string[] {
  const pending = sql
    .exec<{ pending: number }>(HOT_QUERIES.pendingReleases, now - RESEND_AFTER_MS)
    .one().pending;
  const free =
    limits.maxRunners === null ? 1000 : limits.maxRunners - liveRunners(sql, now, limits) - pending;
  if (free <= 0) return [];
  const rows = sql
    .exec<{ job_id: number; message: string }>(HOT_QUERIES.releasable, now - RESEND_AFTER_MS, free)
    .toArray();
  for (const row of rows) sql.exec("UPDATE jobs SET released_at = ? WHERE job_id = ?", now, row.job_id);
  return rows.map((row) => row.message);
}

export function capWaiting(sql: SqlStorage): number {
  return sql.exec<{ parked: number }>(HOT_QUERIES.capWaiting).one().parked;
}
