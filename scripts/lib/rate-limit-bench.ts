/**
 * `bench:dispatch --rate-limit N/Ws`: the emulated secondary limit, the JIT pace the Worker is given against it,
 * and the rules its run is judged by. Pure, so the rules are tested without a 13-minute run.
 */
import { UsageError } from "./cli.ts";

/** At most `limit` JIT registrations per credential in any `windowSeconds`, as the GitHub emulator keeps it. */
export interface RateLimitSpec {
  limit: number;
  windowSeconds: number;
}

/** `80/60s` → 80 calls in any 60 seconds. */
export function parseRateLimit(text: string): RateLimitSpec {
  const match = /^(\d+)\/(\d+(?:\.\d+)?)s$/.exec(text.trim());
  const limit = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(limit) || limit < 1 || !(windowSeconds > 0))
    throw new UsageError(`--rate-limit must look like 80/60s (calls/seconds), not ${text}`);
  return { limit, windowSeconds };
}

/** The limit as an hourly rate. */
export function hourlyRate(spec: RateLimitSpec): number {
  return (spec.limit * 3600) / spec.windowSeconds;
}

/**
 * The JIT_RATE_PER_HOUR the bench gives the Worker unless told otherwise: twice the limit's own rate, so that the
 * Worker's pace is never what holds the jobs back and the figure measures how it behaves against the limit.
 */
export function defaultJitRatePerHour(spec: RateLimitSpec): number {
  return Math.ceil(2 * hourlyRate(spec));
}

/**
 * The JIT_BURST the bench gives the Worker unless told otherwise: three quarters of the limit, as the Worker's
 * default 60 is of GitHub's 80 a minute. Not the limit itself: the calls that meet it would then be the tail of a
 * burst, going together, and more than one would meet it (300 jobs at 80/60s with a burst of 80: 1 or 2 calls
 * into an announced limit; with 60, the pace finds the limit one call at a time and makes none).
 */
export function defaultJitBurst(spec: RateLimitSpec): number {
  return Math.max(1, Math.floor(spec.limit * 0.75));
}

/**
 * The limit's own floor: `jobs` calls at `limit` per window. (The first window's calls all go at once, so a
 * perfect client can end up to one window under it; the ratio says how close the Worker came.)
 */
export function floorSeconds(jobs: number, spec: RateLimitSpec): number {
  return (jobs / spec.limit) * spec.windowSeconds;
}

/** How long the bench waits for every sandbox: twice the floor, and a margin for a small run's fixed costs. */
export function timeoutSeconds(jobs: number, spec: RateLimitSpec): number {
  return Math.ceil(floorSeconds(jobs, spec) * 2 + 120);
}

/**
 * Refusals a well-behaved client may draw in `elapsedMs`: one per window (the call that finds the limit, or the
 * probe that finds it still there), plus one — the rule test/workers/dispatch/burst.test.ts asserts.
 */
export function refusalsAllowed(elapsedMs: number, spec: RateLimitSpec): number {
  return Math.ceil(elapsedMs / (spec.windowSeconds * 1000)) + 1;
}

export interface RateLimitOutcome {
  jobs: number;
  /** Distinct jobs that got a sandbox. */
  jobsWithSandbox: number;
  duplicates: number;
  deadLettered: number;
  /** 403s for either limit, over every credential. */
  refusals: number;
  /** Calls made while a refusal told the credential to wait. */
  duringAnnouncedLimit: number;
  /** From the first delivery to the last sandbox request. */
  elapsedMs: number;
}

/**
 * What makes the run fail, each as a sentence; empty when it passed. As in burst.test.ts, no call may be made into
 * an announced limit at all (a probe goes after the limit ends, so it is never one of them); the one refusal per
 * window the rule allows is the call that meets the limit, or a probe that finds it still in force.
 */
export function judge(outcome: RateLimitOutcome, spec: RateLimitSpec): string[] {
  const problems: string[] = [];
  if (outcome.duringAnnouncedLimit > 0)
    problems.push(`calls made into an announced limit: ${outcome.duringAnnouncedLimit}`);
  const allowed = refusalsAllowed(outcome.elapsedMs, spec);
  if (outcome.refusals > allowed)
    problems.push(`403s drawn: ${outcome.refusals}, more than one per window allows (${allowed})`);
  if (outcome.duplicates > 0) problems.push(`duplicate sandboxes: ${outcome.duplicates}`);
  if (outcome.deadLettered > 0) problems.push(`jobs dead-lettered or failed: ${outcome.deadLettered}`);
  if (outcome.jobsWithSandbox < outcome.jobs)
    problems.push(`jobs without a sandbox at the timeout: ${outcome.jobs - outcome.jobsWithSandbox}`);
  return problems;
}
