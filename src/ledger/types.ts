import type { JobMessage, QueuedJob } from "../jobs/message.ts";
import type { RunnerLimits } from "./capacity.ts";
import type { JobState } from "./job-state.ts";
import type { RunnerState } from "./runner-state.ts";
import type { SandboxSize } from "./usage.ts";

/**
 * Why a job waits in the ledger instead of on the queue (where waiting would spend the message's retries):
 * - `cap`: the owner is at MAX_RUNNERS_PER_OWNER; released when a runner finishes.
 * - `rate_limited`: GitHub announced a limit for the credential, or its JIT pace is spent; due at `wakeAt`.
 * - `config`: the dispatch variables do not parse (missing credentials); probed every few minutes.
 * - `paused`: `POST /api/pause` (released on resume) or DISPATCH_PAUSED (probed every few minutes; the first claim
 *   after it is unset releases the rest).
 * - `unauthenticated`: GitHub refused a PAT once; checked once more (a rotated token) before the job fails.
 * - `modal_busy`: Modal answered RESOURCE_EXHAUSTED (the launcher: 429); due at `wakeAt`.
 */
export const WAIT_REASONS = [
  "cap",
  "rate_limited",
  "config",
  "paused",
  "unauthenticated",
  "modal_busy",
] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

export interface JobRecord {
  jobId: number;
  repository: string;
  runId: number;
  runAttempt: number;
  labels: string[];
  installationId: number | null;
  state: JobState;
  /** The runner of the current (latest) dispatch attempt. */
  runnerName: string | null;
  runnerId: number | null;
  sandboxId: string | null;
  /** How many runners have been started (or tried) for this job; the suffix of the latest runner name. */
  attempts: number;
  leaseUntil: number;
  receivedAt: number;
  dispatchStartedAt: number | null;
  jitIssuedAt: number | null;
  sandboxCreatedAt: number | null;
  inProgressAt: number | null;
  completedAt: number | null;
  conclusion: string | null;
  lastError: string | null;
  updatedAt: number;
  /** Set while the job waits in the ledger (see `WaitReason`). */
  parkedAt: number | null;
  waitReason: WaitReason | null;
  /** When a waiting job is due; null for reasons released by an event (a free slot, a resume). */
  wakeAt: number | null;
  /** The job's next deadline for the reconciler (a stuck check, a re-check); null when nothing is due. */
  checkAt: number | null;
  /** Why a re-check was asked (a redelivery, a stolen runner), until it ran. */
  recheck: string | null;
  /** The runner GitHub named on the job's `in_progress` or `completed` delivery (ours or not). */
  ranOn: string | null;
  /** Why the latest runner was started: `first dispatch`, or the reason of a re-dispatch. */
  dispatchReason: string | null;
  /** When the job reached a terminal state (finished, failed, cancelled). */
  endedAt: number | null;
  /** The size its latest sandbox was requested with; null before one was, or in rows older than sizes. */
  size: SandboxSize | null;
}

/** One runner we started. A job may have several over time; a runner may run another job than its own. */
export interface RunnerRecord {
  runnerName: string;
  /** The job it was started for. */
  jobId: number;
  attempt: number;
  repository: string;
  labels: string[];
  installationId: number | null;
  /** Why it was started. */
  reason: string;
  state: RunnerState;
  runnerId: number | null;
  sandboxId: string | null;
  claimedAt: number;
  /** When its sandbox was requested from Modal. */
  requestedAt: number | null;
  /** The job GitHub says it took (its own, or another one). */
  busyJobId: number | null;
  busyAt: number | null;
  /** When GitHub reported the job it ran completed: an ephemeral runner then ends. */
  doneAt: number | null;
  retireReason: string | null;
  retireAt: number | null;
  retireTries: number;
  deregisteredAt: number | null;
  terminatedAt: number | null;
  /** When Modal stopped listing its sandbox among the running ones. */
  sandboxGoneAt: number | null;
  /** What GitHub's runner list said last: `online`, `offline`, or `absent` (no registration). */
  githubStatus: string | null;
  githubSeenAt: number | null;
  idleSince: number | null;
  offlineSince: number | null;
  absentSince: number | null;
  checkAt: number | null;
  lastError: string | null;
  updatedAt: number;
  /** The size its sandbox was requested with; null before it was, for strays, and in rows older than sizes. */
  size: SandboxSize | null;
}

export interface ClaimInput {
  job: QueuedJob;
  receivedAt: number;
  now: number;
  /** How long this consumer may work on the job before another may take it over. */
  leaseMs: number;
  limits: RunnerLimits;
  /** Kept with the job: sent to the queue again when a waiting job is due or needs another runner. */
  message: JobMessage;
  /** DISPATCH_PAUSED is set: new runners wait. */
  paused?: boolean;
}

export type ClaimResult =
  | {
      outcome: "dispatch";
      runnerName: string;
      attempt: number;
      /**
       * A previous attempt got this far and then stopped (crash, timeout, retry): a runner or even a sandbox may
       * already exist for this name, and must be looked for before anything new is made.
       */
      resumed: boolean;
      /** Why this runner is started: `first dispatch`, or a re-dispatch's reason. */
      reason: string;
      /** Cached upstream ids (Modal app and images, runner version), valid now. */
      cache: Record<string, string>;
    }
  | { outcome: "skip"; state: JobState; reason: string }
  /** Another consumer holds the lease: try again once it has run out. */
  | { outcome: "busy"; retryInMs: number }
  /** The job waits in the ledger, which sends it again when it may go. */
  | { outcome: "parked"; reason: "cap"; liveRunners: number; maxRunners: number | null }
  | { outcome: "parked"; reason: "paused" }
  /** The job already has a runner; a queued delivery asked for a re-check, which the reconciler runs at once. */
  | { outcome: "recheck"; state: JobState };

export interface StartedInput {
  jobId: number;
  runnerName: string;
  runnerId: number | null;
  sandboxId: string | null;
  jitIssuedAt: number | null;
  sandboxCreatedAt: number;
  /**
   * The size the sandbox was requested with (an adopted one: the size its job's labels give now). Absent when a
   * consumer of the version before sizes calls a ledger of this one (a deploy's overlap): the size stays NULL and
   * is priced at the default.
   */
  size?: SandboxSize;
  now: number;
}

export interface ParkInput {
  jobId: number;
  reason: Exclude<WaitReason, "cap" | "paused">;
  /** When the job is due again. */
  until: number;
  /** Why, for operators: the upstream's message, never a secret. */
  detail: string;
  now: number;
  /** The job's message as it should be sent when due (a pacing reservation travels in it). */
  message: JobMessage;
}

export interface LifecycleInput {
  job: QueuedJob;
  kind: "job.waiting" | "job.in_progress" | "job.completed";
  receivedAt: number;
  now: number;
}

export interface CacheEntry {
  key: string;
  value: string;
  ttlMs: number;
}
