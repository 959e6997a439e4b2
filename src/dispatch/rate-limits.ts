/**
 * What this isolate's GitHub calls learnt about their credentials' budgets (the client's `onRateLimit`), kept
 * until it can be told to the credential's budget object: the latest hourly figures, for the reconciler's share,
 * and any limit GitHub announced, which every dispatch using the credential must then respect.
 */

import type { DispatchConfig } from "../config/dispatch.ts";
import type { RateLimitSignal } from "../github/client.ts";
import { budgetFor, type GitHubBudget, type HourlyObservation } from "../ledger/github-budget.ts";
import type { PacingRate } from "../ledger/pacing.ts";

/** The configured JIT pace (JIT_RATE_PER_HOUR, JIT_BURST). */
export function jitRate(config: DispatchConfig): PacingRate {
  return { perHour: config.pacing.jitPerHour, burst: config.pacing.jitBurst };
}

export interface RateLimitTracker {
  onRateLimit(signal: RateLimitSignal): void;
  /** The latest hourly figures seen for the credential. */
  observed(credential: string): HourlyObservation;
  /** Limits announced since the last flush. */
  announced(): ReadonlyMap<string, number>;
  /** Tells each credential's budget object the limits announced since the last flush. */
  flush(namespace: DurableObjectNamespace<GitHubBudget>): Promise<void>;
}

export function createRateLimitTracker(): RateLimitTracker {
  const hourly = new Map<string, HourlyObservation>();
  let pending = new Map<string, number>();
  return {
    onRateLimit(signal) {
      const previous = hourly.get(signal.credential) ?? {};
      hourly.set(signal.credential, {
        limit: signal.limit ?? previous.limit,
        remaining: signal.remaining ?? previous.remaining,
        resetAt: signal.resetAt ?? previous.resetAt,
      });
      const until =
        signal.limitedUntil ??
        (signal.remaining === 0 && signal.resetAt !== undefined ? signal.resetAt : undefined);
      if (until !== undefined)
        pending.set(signal.credential, Math.max(until, pending.get(signal.credential) ?? 0));
    },
    observed: (credential) => hourly.get(credential) ?? {},
    announced: () => pending,
    async flush(namespace) {
      const due = pending;
      pending = new Map();
      await Promise.all(
        [...due].map(([credential, until]) => budgetFor(namespace, credential).limited({ until })),
      );
    },
  };
}
