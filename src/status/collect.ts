/**
 * Gathers the status report: the owners the control object knows, each owner's summary from its own ledger (read
 * in parallel, a bounded number at a time), merged. Read on demand by a page view or `/api/status`; nothing on the
 * dispatch path waits on it.
 */
import { lastChecks } from "../checks/cache.ts";
import { allWarnings } from "../checks/warnings.ts";
import { describeProblems, loadConfig } from "../config.ts";
import { controlFor } from "../ledger/control.ts";
import { ledgerFor } from "../ledger/job-ledger.ts";
import { DAY_MS, dayOf } from "../ledger/retention.ts";
import type { OwnerSummary } from "../ledger/summary.ts";
import { sandboxSizeOf } from "../ledger/usage.ts";
import { configSummary } from "./config-summary.ts";
import { costOf, latencyOf, type StatusReport } from "./report.ts";

const HOUR_MS = 60 * 60 * 1000;
const PARALLEL = 10;

async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map(work))));
  }
  return results;
}

export async function collectStatus(env: Env, now: number): Promise<StatusReport> {
  const config = loadConfig(env);
  const control = controlFor(env.CONTROL);
  const [owners, apiPaused, hooks, warnings] = await Promise.all([
    control.owners(),
    control.isPaused(),
    control.hooks(),
    allWarnings(env, config),
  ]);
  const summaries: OwnerSummary[] = await inBatches(owners, PARALLEL, (owner) =>
    ledgerFor(env.LEDGER, owner).summary(now),
  );
  const dispatch = config.dispatch.ok ? config.dispatch.value : undefined;
  const checks = lastChecks(config);
  const prices = config.operator.ok
    ? config.operator.value.prices
    : { cpuCoreSecond: 0, memoryGibSecond: 0, gpuSecond: 0, gpuSecondByType: {}, asOf: "unknown" };
  const defaultSize = sandboxSizeOf(dispatch?.runner ?? { cpu: 0, memoryMiB: 0, gpu: undefined });
  const samples = summaries.flatMap((summary) => summary.samples);
  const failedToday = summaries.reduce(
    (sum, summary) => sum + summary.failures.filter((job) => (job.endedAt ?? 0) >= now - DAY_MS).length,
    0,
  );
  return {
    generatedAt: new Date(now).toISOString(),
    paused: { variable: dispatch?.pacing.paused ?? false, api: apiPaused },
    totals: {
      owners: summaries.length,
      inFlight: summaries.reduce((sum, summary) => sum + summary.inFlight.length, 0),
      waiting: summaries.reduce((sum, summary) => sum + summary.waiting.reduce((n, w) => n + w.count, 0), 0),
      liveRunners: summaries.reduce((sum, summary) => sum + summary.liveRunners, 0),
      failedToday,
    },
    owners: summaries.map((summary) => ({
      owner: summary.owner,
      paused: summary.paused,
      liveRunners: summary.liveRunners,
      maxRunners: dispatch?.runner.maxPerOwner ?? null,
      capWaiting: summary.capWaiting,
      inFlight: summary.inFlight,
      waiting: summary.waiting,
      runners: summary.runners,
      failures: summary.failures,
      ended: summary.ended,
    })),
    latency: { hour: latencyOf(samples, now - HOUR_MS), day: latencyOf(samples, now - DAY_MS) },
    cost: costOf(summaries, defaultSize, prices, dayOf(now)),
    config: {
      summary: configSummary(env, config),
      warnings,
      problems: describeProblems(config.problems),
    },
    hooks: hooks.map((hook) => ({
      kind: hook.kind,
      target: hook.target,
      scannedAt: hook.scannedAt === null ? null : new Date(hook.scannedAt).toISOString(),
      lastError: hook.lastError,
    })),
    ...(checks === undefined ? {} : { checks }),
  };
}
