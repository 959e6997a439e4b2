/**
 * What GitHub says about a credential's rate limits, as a signal for whoever paces calls: every answer that
 * carries `x-ratelimit-*` headers, and every refusal for a rate limit (with when to call again). Signals name the
 * budget that was spent (`credential`), never the secret that spent it.
 *
 * The error mapping stays in errors.ts; `limitedUntil` is read from the wait it decided, so a signal and the
 * error a caller catches never disagree.
 */
import type { UpstreamError } from "../errors.ts";

export interface RateLimitSignal {
  /**
   * `<API base URL>|pat:<first 16 hex of SHA-256(token)>`, `…|installation:<id>`, `…|app:<appId>` (JWT calls) or
   * `…|anonymous`: the base URL (origin and path) keeps two GitHub hosts' budgets apart.
   */
  credential: string;
  /** The client method, e.g. `generateJitConfig`. */
  operation: string;
  remaining?: number;
  limit?: number;
  /** When the hourly budget refills, in milliseconds since the epoch (`x-ratelimit-reset`). */
  resetAt?: number;
  /** Set when GitHub refused the call for a rate limit: do not call with this credential before then (ms). */
  limitedUntil?: number;
  /** The refusal was a secondary limit (a burst), not the hourly budget running out. */
  secondary?: boolean;
}

type Headers = Readonly<Record<string, string | number | undefined>>;

function numberHeader(headers: Headers, name: string): number | undefined {
  const value = headers[name];
  if (value === undefined || String(value).trim() === "") return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** The budget an answer reports; undefined when it reports none. */
export function budgetOf(
  headers: Headers,
): Pick<RateLimitSignal, "remaining" | "limit" | "resetAt"> | undefined {
  const remaining = numberHeader(headers, "x-ratelimit-remaining");
  const limit = numberHeader(headers, "x-ratelimit-limit");
  const reset = numberHeader(headers, "x-ratelimit-reset");
  if (remaining === undefined && limit === undefined && reset === undefined) return undefined;
  return {
    ...(remaining === undefined ? {} : { remaining }),
    ...(limit === undefined ? {} : { limit }),
    ...(reset === undefined ? {} : { resetAt: reset * 1000 }),
  };
}

/**
 * The signal of a failed call: its budget if the answer carried one, and for a rate-limit refusal the time
 * errors.ts decided to wait. A refusal with budget left (or none reported) is a secondary limit.
 */
export function failureSignal(
  error: UpstreamError,
  headers: Headers,
  context: { credential: string; operation: string; now: number },
): RateLimitSignal | undefined {
  const budget = budgetOf(headers);
  const limited = error.reason === "rate_limited";
  if (budget === undefined && !limited) return undefined;
  return {
    credential: context.credential,
    operation: context.operation,
    ...budget,
    ...(limited
      ? {
          limitedUntil: context.now + (error.retryAfterSeconds ?? 0) * 1000,
          secondary: budget?.remaining !== 0,
        }
      : {}),
  };
}
