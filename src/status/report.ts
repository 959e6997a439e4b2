/**
 * The status report: every owner's summary (from its ledger), merged — jobs in flight and why, what waits, cap use,
 * recent failures, per-stage latency over the last hour and day, estimated Modal cost — with the configuration's
 * summary and warnings, and the last deep health check. The same object is `/api/status` and what `/status`
 * renders.
 */
import type { CheckReport } from "../checks/check.ts";
import type { ModalPrices } from "../config/operator.ts";
import type { OwnerSummary, StageSample } from "../ledger/summary.ts";
import type { JobRecord, RunnerRecord } from "../ledger/types.ts";
import {
  addGpuSeconds,
  addUsage,
  emptyUsage,
  type SandboxSize,
  type Usage,
  usageOf,
} from "../ledger/usage.ts";

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
  /** The size of a sandbox whose job asks for none (`SANDBOX_*`); rows without a recorded size are priced at it. */
  defaultSize: SandboxSize;
  /** USD per sandbox second at the configured size. */
  perSandboxSecond: number;
  /** USD per job ended today (UTC): today's sandbox cost / jobs ended today. */
  perJob: number | null;
  today: number;
  days: { day: string; usd: number; jobs: number; sandboxSeconds: number }[];
  /**
   * GPU types used in these days with no known price (not in Modal's list as we have it), and their GPU-seconds:
   * left out of every figure above, which then reads low, rather than priced at a guess.
   */
  unpriced: { type: string; gpuSeconds: number }[];
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

/** Resource-seconds → USD; GPU types without a price count 0 and are returned, so the page can say so. */
function price(
  usage: Usage,
  defaultSize: SandboxSize,
  prices: ModalPrices,
): { usd: number; unpriced: Usage["gpuSeconds"] } {
  // What the ledger could not size ran, most likely, at the default size.
  const sized = addUsage({ ...usage, unsizedSeconds: 0 }, usageOf(defaultSize, usage.unsizedSeconds));
  let usd = sized.cpuSeconds * prices.cpuCoreSecond + sized.memoryGibSeconds * prices.memoryGibSecond;
  const unpriced: Usage["gpuSeconds"] = {};
  for (const [type, seconds] of Object.entries(sized.gpuSeconds)) {
    const perSecond = prices.gpuSecondByType[type];
    if (perSecond === undefined) unpriced[type] = seconds;
    else usd += seconds * perSecond;
  }
  return { usd, unpriced };
}

/** USD per second of one sandbox of `size`. */
export function perSandboxSecond(size: SandboxSize, prices: ModalPrices): number {
  return price(usageOf(size, 1), size, prices).usd;
}

/**
 * What one job's sandbox cost so far, at the size it was requested with (the default for rows older than sizes):
 * from the sandbox request to the job's end (or now). An estimate — a sandbox may outlive its job a little, or
 * serve another — and null without a sandbox.
 */
export function estimatedJobUsd(
  job: JobRecord,
  now: number,
  cost: Pick<CostEstimate, "prices" | "defaultSize">,
): number | null {
  if (job.sandboxCreatedAt === null) return null;
  const end = job.endedAt ?? job.completedAt ?? now;
  return (
    (Math.max(0, end - job.sandboxCreatedAt) / 1000) *
    perSandboxSecond(job.size ?? cost.defaultSize, cost.prices)
  );
}

export function costOf(
  owners: readonly OwnerSummary[],
  defaultSize: SandboxSize,
  prices: ModalPrices,
  today: string,
): CostEstimate {
  const byDay = new Map<string, { usage: Usage; jobs: number }>();
  const add = (day: string, usage: Usage, jobs: number) => {
    const entry = byDay.get(day) ?? { usage: emptyUsage(), jobs: 0 };
    byDay.set(day, { usage: addUsage(entry.usage, usage), jobs: entry.jobs + jobs });
  };
  for (const owner of owners) {
    for (const row of owner.daily) add(row.day, row, row.finished + row.failed + row.cancelled);
    add(today, owner.liveUsage, 0);
  }
  let unpriced: Usage["gpuSeconds"] = {};
  const days = [...byDay]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, entry]) => {
      const priced = price(entry.usage, defaultSize, prices);
      unpriced = addGpuSeconds(unpriced, priced.unpriced);
      return { day, usd: priced.usd, jobs: entry.jobs, sandboxSeconds: entry.usage.sandboxSeconds };
    });
  const current = days.find((day) => day.day === today);
  return {
    prices,
    defaultSize,
    perSandboxSecond: perSandboxSecond(defaultSize, prices),
    perJob: current === undefined || current.jobs === 0 ? null : current.usd / current.jobs,
    today: current?.usd ?? 0,
    days,
    unpriced: Object.entries(unpriced).map(([type, gpuSeconds]) => ({ type, gpuSeconds })),
  };
}
