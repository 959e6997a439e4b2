/**
 * A job's life as the ledger records it. GitHub's lifecycle events move it forward; our own dispatch moves it from
 * `queued` to `started` (or `failed`). A job moves back only for a new attempt: a redelivery of a `failed` job is
 * dispatched again, a job whose runner was never made goes back to `queued` while it waits, and the reconciler
 * sends a `started` job no runner took back to `queued` for its next runner. GitHub's word (`running` and later)
 * overrides our `failed`: another of our runners may have taken the job after our own attempt gave up.
 */
export const JOB_STATES = [
  "queued",
  "dispatching",
  "started",
  "running",
  "finished",
  "failed",
  "cancelled",
] as const;
export type JobState = (typeof JOB_STATES)[number];

const RANK: Record<JobState, number> = {
  queued: 0,
  dispatching: 1,
  started: 2,
  running: 3,
  failed: 3,
  finished: 4,
  cancelled: 4,
};

/** Whether a GitHub lifecycle event may move a job from `from` to `to`. */
export function mayAdvance(from: JobState, to: JobState): boolean {
  if (from === to) return false;
  if (from === "failed") return to === "running" || to === "finished" || to === "cancelled";
  return RANK[to] > RANK[from];
}

/** Whether a `job.queued` message should start a runner for a job in this state. */
export function needsRunner(state: JobState): boolean {
  return state === "queued" || state === "dispatching";
}
