/**
 * The status report: every owner's summary (from its ledger), merged — jobs in flight and why, what waits, cap use,
 * recent failures, per-stage latency over the last hour and day, estimated Modal cost — with the configuration's
 * summary and warnings, and the last deep health check. The same object is `/api/status` and what `/status`
 * renders.
 */
import type { CheckReport } from "../checks/check.ts";
import type { RunnerConfig } from "../config/dispatch.ts";
import type { ModalPrices } from "../config/operator.ts";
import type { DailyRow } from "../ledger/retention.ts";
import type { OwnerSummary, StageSample } from "../ledger/summary.ts";
import type { JobRecord, RunnerRecord } from "../ledger/types.ts";

export const STAGES = ["queue", "jit", "sandbox", "connect", "pickup", "run"] as const;
export type Stage = (typeof STAGES)[number];

export interface StageStats {
  count: number;
  /** Milliseconds; null without samples. */
  p50: number | null;
  p95: number | null;
}

export type Latency = Record<Stage, StageStats>;

export interface CostEstimate {
  prices: ModalPrices;
  /** USD per sandbox second at the configured size. */
  perSandboxSecond: number;
  /** USD per job ended today (UTC): today's sandbox cost / jobs ended today. */
  perJob: number | null;
  today: number;
  days: { day: string; usd: number; jobs: number; sandboxSeconds: number }[];
}

export interface OwnerReport {
  owner: string;
  paused: boolean;
  liveRunners: number;
  maxRunners: number | null;
  capWaiting: number;
  inFlight: JobRecord[];
  waiting: OwnerSummary["waiting"];
  runners: RunnerRecord[];
  failures: JobRecord[];
  ended: JobRecord[];
}

export interface StatusReport {
  generatedAt: string;
  paused: { variable: boolean; api: boolean };
  totals: { owners: number; inFlight: number; waiting: number; liveRunners: number; failedToday: number };
  owners: OwnerReport[];
  latency: { hour: Latency; day: Latency };
  cost: CostEstimate;
  config: { summary: { name: string; value: string }[]; warnings: string[]; problems: string[] };
  hooks: { kind: string; target: string; scannedAt: string | null; lastError: string | null }[];
  /**
   * The last deep health check of this isolate (`/healthz?deep=1`), as it answered; absent when none ran here
   * yet. Read from the cache only: showing the status never calls GitHub or Modal.
   */
  checks?: CheckReport;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

export function latencyOf(samples: readonly StageSample[], since: number): Latency {
  const recent = samples.filter((sample) => sample.receivedAt >= since);
  const stats = (stage: Stage): StageStats => {
    const values = recent
      .map((sample) => sample[stage])
      .filter((value): value is number => value !== undefined)
      .sort((a, b) => a - b);
    return { count: values.length, p50: percentile(values, 50), p95: percentile(values, 95) };
  };
  return {
    queue: stats("queue"),
    jit: stats("jit"),
    sandbox: stats("sandbox"),
    connect: stats("connect"),
    pickup: stats("pickup"),
    run: stats("run"),
  };
}

export function perSandboxSecond(
  runner: Pick<RunnerConfig, "cpu" | "memoryMiB">,
  prices: ModalPrices,
): number {
  return (
    runner.cpu * prices.cpuCoreSecond + (runner.memoryMiB / 1024) * prices.memoryGibSecond + prices.gpuSecond
  );
}

/**
 * What one job's sandbox cost so far, at the configured size: from the sandbox request to the job's end (or now).
 * An estimate — a sandbox may outlive its job a little, or serve another — and null without a sandbox.
 */
export function estimatedJobUsd(job: JobRecord, now: number, usdPerSandboxSecond: number): number | null {
  if (job.sandboxCreatedAt === null) return null;
  const end = job.endedAt ?? job.completedAt ?? now;
  return (Math.max(0, end - job.sandboxCreatedAt) / 1000) * usdPerSandboxSecond;
}

export function costOf(
  owners: readonly OwnerSummary[],
  runner: Pick<RunnerConfig, "cpu" | "memoryMiB">,
  prices: ModalPrices,
  today: string,
): CostEstimate {
  const rate = perSandboxSecond(runner, prices);
  const byDay = new Map<string, { sandboxSeconds: number; jobs: number }>();
  const add = (row: Pick<DailyRow, "day" | "sandboxSeconds" | "finished" | "failed" | "cancelled">) => {
    const entry = byDay.get(row.day) ?? { sandboxSeconds: 0, jobs: 0 };
    entry.sandboxSeconds += row.sandboxSeconds;
    entry.jobs += row.finished + row.failed + row.cancelled;
    byDay.set(row.day, entry);
  };
  for (const owner of owners) {
    for (const row of owner.daily) add(row);
    add({ day: today, sandboxSeconds: owner.liveSandboxSeconds, finished: 0, failed: 0, cancelled: 0 });
  }
  const days = [...byDay]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, entry]) => ({
      day,
      usd: entry.sandboxSeconds * rate,
      jobs: entry.jobs,
      sandboxSeconds: entry.sandboxSeconds,
    }));
  const current = days.find((day) => day.day === today);
  return {
    prices,
    perSandboxSecond: rate,
    perJob: current === undefined || current.jobs === 0 ? null : current.usd / current.jobs,
    today: current?.usd ?? 0,
    days,
  };
}
