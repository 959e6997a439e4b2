/**
 * What a reconcile cycle reads from the history-sized tables, named so that a test can check each statement's
 * plan (test/workers/ledger/cost.test.ts): deadlines come due through the `check_at` indexes, runners in flight
 * through `runners_live`, jobs awaiting pickup through `jobs_by_state` — none scans the owner's history.
 */
import { JOB_COLUMNS } from "./rows.ts";

export const RECONCILE_QUERIES = {
  dueJobs: `SELECT ${JOB_COLUMNS} FROM jobs WHERE check_at IS NOT NULL AND check_at <= ? ORDER BY check_at LIMIT ?`,
  jobsAwaitingPickup: `SELECT ${JOB_COLUMNS} FROM jobs WHERE state IN ('started', 'dispatching') ORDER BY received_at LIMIT ?`,
  nextJobCheck: "SELECT MIN(check_at) AS at FROM jobs WHERE check_at IS NOT NULL",
  nextRunnerCheck: "SELECT MIN(check_at) AS at FROM runners WHERE check_at IS NOT NULL",
  runnersInFlight: "SELECT * FROM runners WHERE state != 'gone' ORDER BY claimed_at LIMIT ?",
  dueRunners: "SELECT * FROM runners WHERE check_at IS NOT NULL AND check_at <= ? ORDER BY check_at LIMIT ?",
} as const;
