/**
 * Which of our waiting jobs an idle runner of ours can take, and which idle runners no job needs. GitHub does not
 * bind runners to jobs: any idle runner whose labels include all of a job's labels may take it. So a job whose own
 * runner was taken by another job is fine if another idle runner covers it (often that other job's own runner),
 * and needs a new runner only if none does; an idle runner whose job ended or ran elsewhere is useful only if a
 * waiting job can use it — otherwise it is a spare that bills for nothing.
 *
 * Matching: oldest job first, its own runner when idle, else the covering runner with the fewest labels (leaving
 * the more capable ones for jobs that need them). Greedy, which is optimal when label sets nest, as they do for
 * the label sets jobs actually use. Pure.
 */
import { missingLabels } from "../jobs/policy.ts";
import { isIdle } from "../ledger/runner-state.ts";
import type { JobRecord, RunnerRecord } from "../ledger/types.ts";

export interface Coverage {
  /** Waiting jobs no idle runner of ours can take, with what became of their own runner. */
  uncovered: { job: JobRecord; reason: string }[];
  /** Idle runners no waiting job needs, whose own job does not need them either. */
  spares: { runner: RunnerRecord; reason: string }[];
  /** Jobs left to a runner that is not their own: job id → runner name. */
  leftTo: Map<number, string>;
}

const TERMINAL = new Set(["finished", "failed", "cancelled"]);

function ownRunnerFate(job: JobRecord, runners: ReadonlyMap<string, RunnerRecord>): string {
  const own = job.runnerName === null ? undefined : runners.get(job.runnerName);
  if (own === undefined) return "it has no runner";
  if (own.state === "busy" || own.state === "done") {
    return own.busyJobId === null
      ? `its runner ${own.runnerName} is running another job`
      : `its runner ${own.runnerName} was taken by job ${own.busyJobId}`;
  }
  return `its runner ${own.runnerName} is gone${own.retireReason === null ? "" : ` (${own.retireReason})`}`;
}

function spareReason(runner: RunnerRecord, own: JobRecord | undefined): string | undefined {
  if (own === undefined) return "its job is no longer tracked";
  if (TERMINAL.has(own.state)) {
    if (own.state === "cancelled" && (own.ranOn === null || own.ranOn !== runner.runnerName)) {
      return "its job was cancelled before it picked it up";
    }
    return own.ranOn !== null && own.ranOn !== runner.runnerName
      ? `its job ran on ${own.ranOn}`
      : `its job is ${own.state}`;
  }
  if (own.state === "running" && own.ranOn !== runner.runnerName)
    return `its job ran on ${own.ranOn ?? "another runner"}`;
  return undefined;
}

export function cover(
  waiting: readonly JobRecord[],
  runners: readonly RunnerRecord[],
  /** A runner's own job, when it is not among the waiting ones (it ended, or runs). */
  jobOf: (jobId: number) => JobRecord | undefined,
  /** Runners known dead (no registration, or offline with no sandbox) never count as idle. */
  usable: (runner: RunnerRecord) => boolean = () => true,
): Coverage {
  const byName = new Map(runners.map((runner) => [runner.runnerName, runner]));
  // Strays (runners of ours the ledger learnt of from GitHub or Modal, attempt 0) follow the orphan rules instead.
  const pool = runners.filter((runner) => isIdle(runner.state) && runner.attempt > 0 && usable(runner));
  const taken = new Set<string>();
  const coverage: Coverage = { uncovered: [], spares: [], leftTo: new Map() };

  for (const job of [...waiting].sort((a, b) => a.receivedAt - b.receivedAt)) {
    const own = pool.find((runner) => runner.runnerName === job.runnerName && !taken.has(runner.runnerName));
    if (own !== undefined) {
      taken.add(own.runnerName);
      continue;
    }
    const other = pool
      .filter(
        (runner) =>
          !taken.has(runner.runnerName) &&
          runner.state === "live" &&
          missingLabels(job.labels, runner.labels).length === 0,
      )
      .sort((a, b) => a.labels.length - b.labels.length || a.claimedAt - b.claimedAt)[0];
    if (other !== undefined) {
      taken.add(other.runnerName);
      coverage.leftTo.set(job.jobId, other.runnerName);
      continue;
    }
    coverage.uncovered.push({ job, reason: ownRunnerFate(job, byName) });
  }

  const waitingById = new Map(waiting.map((job) => [job.jobId, job]));
  for (const runner of pool) {
    // A runner still being made is looked at again once its sandbox exists.
    if (taken.has(runner.runnerName) || runner.state !== "live") continue;
    const reason = spareReason(runner, waitingById.get(runner.jobId) ?? jobOf(runner.jobId));
    if (reason !== undefined) coverage.spares.push({ runner, reason });
  }
  return coverage;
}
