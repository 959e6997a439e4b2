/**
 * What one owner's ledger tells the status page: what is in flight and why, what waits, what failed lately, and
 * the durations of each stage of recent jobs. Read on demand (a page view), bounded, never on the dispatch path.
 */
import { capWaiting } from "./capacity.ts";
import { type WaitingSummary, waitingByReason } from "./parking.ts";
import { DAY_MS, type DailyRow, dailyRows, dayOf } from "./retention.ts";
import { JOB_COLUMNS, toJobRecord } from "./rows.ts";
import { runnersInFlight } from "./runners.ts";
import type { JobRecord, RunnerRecord } from "./types.ts";
import { addUsage, emptyUsage, type Usage, usageOf } from "./usage.ts";

/** Milliseconds each stage of one job took; absent when it has not happened (yet). */
export interface StageSample {
  receivedAt: number;
  /** Webhook accepted → the consumer took it off the queue. */
  queue?: number;
  /** → GitHub issued the JIT config. */
  jit?: number;
  /** → Modal accepted the sandbox. */
  sandbox?: number;
  /** Sandbox requested → GitHub reported the job in progress (the runner booted, connected, took it). */
  connect?: number;
  /** Webhook → in progress: what a user waits for. */
  pickup?: number;
  /** In progress → completed. */
  run?: number;
}

export interface OwnerSummary {
  owner: string;
  paused: boolean;
  liveRunners: number;
  capWaiting: number;
  inFlight: JobRecord[];
  waiting: WaitingSummary[];
  runners: RunnerRecord[];
  /** Jobs that failed in the last day, newest first. */
  failures: JobRecord[];
  /** Jobs that finished or were cancelled in the last day, newest first: otherwise a cancelled job vanishes. */
  ended: JobRecord[];
  samples: StageSample[];
  daily: DailyRow[];
  /** What the runners still in flight used so far (the daily rows count runners once gone). */
  liveUsage: Usage;
}

const LIMIT = 200;

function sampleOf(job: JobRecord): StageSample {
  const span = (from: number | null, to: number | null) =>
    from === null || to === null || to < from ? undefined : to - from;
  const sample: StageSample = { receivedAt: job.receivedAt };
  const entries: [keyof StageSample, number | undefined][] = [
    ["queue", span(job.receivedAt, job.dispatchStartedAt)],
    ["jit", span(job.dispatchStartedAt, job.jitIssuedAt)],
    ["sandbox", span(job.jitIssuedAt, job.sandboxCreatedAt)],
    ["connect", span(job.sandboxCreatedAt, job.inProgressAt)],
    ["pickup", span(job.receivedAt, job.inProgressAt)],
    ["run", span(job.inProgressAt, job.completedAt)],
  ];
  for (const [key, value] of entries) if (value !== undefined) sample[key] = value;
  return sample;
}

export function summarize(
  sql: SqlStorage,
  input: { owner: string; paused: boolean; liveRunners: number; now: number; lifetimeMs: number },
): OwnerSummary {
  const jobs = (query: string, ...args: (string | number)[]) =>
    sql
      .exec(query, ...args)
      .toArray()
      .map(toJobRecord);
  const inFlight = jobs(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE state IN ('queued', 'dispatching', 'started', 'running')
     ORDER BY received_at LIMIT ?`,
    LIMIT,
  );
  const failures = jobs(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE ended_at IS NOT NULL AND ended_at >= ? AND state = 'failed'
     ORDER BY ended_at DESC LIMIT 50`,
    input.now - DAY_MS,
  );
  const ended = jobs(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE ended_at IS NOT NULL AND ended_at >= ? AND state IN ('finished', 'cancelled')
     ORDER BY ended_at DESC LIMIT 50`,
    input.now - DAY_MS,
  );
  const recent = jobs(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE received_at >= ? ORDER BY received_at DESC LIMIT 2000`,
    input.now - DAY_MS,
  );
  const runners = runnersInFlight(sql, LIMIT);
  const liveUsage = runners.reduce((sum, runner) => {
    if (runner.requestedAt === null) return sum;
    const end = Math.min(runner.sandboxGoneAt ?? input.now, runner.requestedAt + input.lifetimeMs);
    return addUsage(sum, usageOf(runner.size, Math.max(0, end - runner.requestedAt) / 1000));
  }, emptyUsage());
  return {
    owner: input.owner,
    paused: input.paused,
    liveRunners: input.liveRunners,
    capWaiting: capWaiting(sql),
    inFlight,
    waiting: waitingByReason(sql),
    runners,
    failures,
    ended,
    samples: recent.map(sampleOf),
    daily: dailyRows(sql, dayOf(input.now - 30 * DAY_MS)),
    liveUsage,
  };
}
