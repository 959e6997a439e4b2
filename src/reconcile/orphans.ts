/**
 * What to do with one runner of ours, from what GitHub and Modal showed of it this cycle (the observation is in
 * the record: `githubStatus`, `absentSince`, `offlineSince`, `idleSince`, `sandboxGoneAt`). Pure. The rules:
 *
 * - dead: no registration, or offline with no sandbox (its JIT config lived in the sandbox, so it can never
 *   connect), or offline for ORPHAN_GRACE_SECONDS after its sandbox was requested (it never managed to) → removed;
 * - hung: the job it ran completed ORPHAN_GRACE_SECONDS ago and its sandbox still runs → removed;
 * - stray (a runner of ours the ledger learnt of from GitHub or Modal): online and idle, or offline with no
 *   sandbox, for ORPHAN_GRACE_SECONDS → removed; a sandbox with no registration → terminated;
 * - ended: no registration left and no sandbox → forgotten (`gone`).
 *
 * Removal always deregisters first (retire.ts); a runner GitHub reports busy is never touched.
 */
import type { RunnerRecord } from "../ledger/types.ts";

export interface Observed {
  /** GitHub's runner list for the runner's scope was read this cycle. */
  github: boolean;
  /** Modal's sandbox list for the owner was read this cycle. */
  sandboxes: boolean;
}

export type Judgement =
  | { action: "keep" }
  | { action: "retire"; reason: string; registrationAbsent: boolean }
  | { action: "gone" };

/** Modal's list may not show a sandbox requested a moment ago. */
export const NEW_SANDBOX_GRACE_MS = 60_000;

export function judgeRunner(
  runner: RunnerRecord,
  observed: Observed,
  now: number,
  graceMs: number,
): Judgement {
  if (runner.state === "gone" || runner.state === "starting" || runner.state === "retiring")
    return { action: "keep" };
  if (runner.githubStatus === "busy") return { action: "keep" };
  const absent = observed.github && runner.githubStatus === "absent";
  const sandboxGone = observed.sandboxes && runner.sandboxGoneAt !== null;
  const sandboxLive = observed.sandboxes && runner.sandboxGoneAt === null;
  const old = (since: number | null) => since !== null && now - since >= graceMs;

  if (absent && sandboxGone) return { action: "gone" };
  if (runner.state === "done") {
    if (sandboxGone && (absent || !observed.github)) return { action: "gone" };
    if (sandboxLive && runner.doneAt !== null && now - runner.doneAt >= graceMs) {
      return {
        action: "retire",
        reason: "the job it ran completed but its sandbox kept running",
        registrationAbsent: absent,
      };
    }
    return { action: "keep" };
  }
  if (runner.state === "busy") {
    // Its registration is left to GitHub; the sandbox ended (lifetime or crash): the record can go once GitHub
    // no longer lists the runner.
    if (sandboxGone && absent) return { action: "gone" };
    if (sandboxLive && absent) {
      return {
        action: "retire",
        reason: "GitHub no longer lists it but its sandbox still runs",
        registrationAbsent: true,
      };
    }
    return { action: "keep" };
  }

  // `live`: registered, not known to run anything.
  const stray = runner.attempt === 0;
  const requestedLongAgo = runner.requestedAt !== null && now - runner.requestedAt >= NEW_SANDBOX_GRACE_MS;
  if (absent && sandboxLive && (requestedLongAgo || stray)) {
    return {
      action: "retire",
      reason: "its registration is gone but its sandbox runs",
      registrationAbsent: true,
    };
  }
  if (absent && !observed.sandboxes && requestedLongAgo) {
    return { action: "retire", reason: "its registration is gone", registrationAbsent: true };
  }
  const offline = observed.github && runner.githubStatus === "offline";
  if (offline && sandboxGone && (requestedLongAgo || (stray && old(runner.offlineSince)))) {
    return { action: "retire", reason: "offline, and its sandbox is gone", registrationAbsent: false };
  }
  if (
    offline &&
    runner.requestedAt !== null &&
    now - runner.requestedAt >= graceMs &&
    runner.idleSince === null
  ) {
    return { action: "retire", reason: "its runner never came online", registrationAbsent: false };
  }
  if (stray && observed.github && runner.githubStatus === "online" && old(runner.idleSince)) {
    return {
      action: "retire",
      reason: "a runner of ours idle with nothing to run",
      registrationAbsent: false,
    };
  }
  return { action: "keep" };
}
