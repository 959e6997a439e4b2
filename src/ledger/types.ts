import type { JobMessage, QueuedJob } from "../jobs/message.ts";
import type { RunnerLimits } from "./capacity.ts";
import type { JobState } from "./job-state.ts";

export interface JobRecord {
  jobId: number;
  repository: string;
  runId: number;
  runAttempt: number;
  labels: string[];
  installationId: number | null;
  state: JobState;
  runnerName: string | null;
  runnerId: number | null;
  sandboxId: string | null;
  /** How many runners have been started (or tried) for this job; the suffix of the runner name. */
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
  /** When GitHub reported a completed job on this job's runner: its sandbox is ending. */
  runnerDoneAt: number | null;
  /** Set while the job waits for a free runner slot under the owner's cap. */
  parkedAt: number | null;
}

export interface ClaimInput {
  job: QueuedJob;
  receivedAt: number;
  now: number;
  /** How long this consumer may work on the job before another may take it over. */
  leaseMs: number;
  limits: RunnerLimits;
  /** Sent to the queue again when a parked job gets a slot. */
  message: JobMessage;
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
      /** Cached upstream ids (Modal app and images, runner version), valid now. */
      cache: Record<string, string>;
    }
  | { outcome: "skip"; state: JobState; reason: string }
  /** Another consumer holds the lease: try again once it has run out. */
  | { outcome: "busy"; retryInMs: number }
  /** The owner is at its runner cap: the ledger keeps the job and sends it again when a slot frees up. */
  | { outcome: "parked"; liveRunners: number; maxRunners: number };

export interface StartedInput {
  jobId: number;
  runnerName: string;
  runnerId: number | null;
  sandboxId: string | null;
  jitIssuedAt: number | null;
  sandboxCreatedAt: number;
  now: number;
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
