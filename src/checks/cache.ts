/**
 * Deep check results, kept per configuration in the isolate (one configuration per isolate in production): a
 * deep check runs at most once a minute however often `/healthz?deep=1` is asked — it must not become a way to
 * spend the credentials' GitHub budget — and concurrent askers share the run in flight. The status page runs
 * them the same way; `/api/status` reads the last result only, and never starts a run.
 */
import type { Config } from "../config.ts";
import type { CheckReport } from "./check.ts";

export const CHECKS_TTL_MS = 60_000;

interface Entry {
  startedAt: number;
  pending: Promise<CheckReport>;
  last: CheckReport | undefined;
}

const entries = new WeakMap<Config, Entry>();

/** The last result, or a fresh one when the last run started a minute ago or more. */
export async function cachedChecks(
  config: Config,
  now: number,
  run: () => Promise<CheckReport>,
): Promise<{ report: CheckReport; cached: boolean }> {
  const entry = entries.get(config);
  if (entry !== undefined && now - entry.startedAt < CHECKS_TTL_MS) {
    return { report: await entry.pending, cached: true };
  }
  const fresh: Entry = { startedAt: now, pending: run(), last: entry?.last };
  entries.set(config, fresh);
  // A run that threw is not kept for the minute: the next ask runs again (the last finished run stays).
  fresh.pending.catch(() => {
    if (entries.get(config) === fresh) entries.set(config, { ...fresh, startedAt: Number.NEGATIVE_INFINITY });
  });
  const report = await fresh.pending;
  fresh.last = report;
  return { report, cached: false };
}

/** The last finished run, for the status page; undefined before the first. */
export function lastChecks(config: Config): CheckReport | undefined {
  return entries.get(config)?.last;
}
