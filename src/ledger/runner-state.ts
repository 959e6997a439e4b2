/**
 * A runner's life as the ledger records it:
 *
 *   starting ──▶ live ──▶ busy ──▶ done ──▶ gone
 *                  │        ▲                 ▲
 *                  └────────┴──▶ retiring ────┘
 *
 * - `starting`: claimed for a job; its registration and sandbox are being made.
 * - `live`: registered, sandbox requested; not known to run a job.
 * - `busy`: GitHub says it took a job (its own or another: runners are not bound to jobs).
 * - `done`: the job it ran completed; an ephemeral runner deregisters itself and its sandbox ends.
 * - `retiring`: we decided to remove it; the registration is deleted first, the sandbox terminated after.
 * - `gone`: no registration and no sandbox are left (terminal).
 */
export const RUNNER_STATES = ["starting", "live", "busy", "done", "retiring", "gone"] as const;
export type RunnerState = (typeof RUNNER_STATES)[number];

/** Runners that may still take a job: nothing says they run one, and we are not removing them. */
export function isIdle(state: RunnerState): boolean {
  return state === "starting" || state === "live";
}
