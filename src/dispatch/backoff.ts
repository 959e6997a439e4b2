/**
 * How long a message waits before its next attempt: full-jitter exponential backoff (a burst of failures spreads
 * out instead of returning in lockstep), never sooner than the upstream asked (`retry-after`), and never past the
 * Queue's limit of 12 hours.
 */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60;

export interface BackoffOptions {
  /** Delivery attempts so far (the Queue's `message.attempts`, starting at 1). */
  attempts: number;
  retryAfterSeconds?: number | undefined;
  baseSeconds?: number;
  capSeconds?: number;
  random?: () => number;
}

export function retryDelaySeconds(options: BackoffOptions): number {
  const base = options.baseSeconds ?? 2;
  const cap = options.capSeconds ?? 300;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, options.attempts - 1));
  const jittered = Math.ceil(random() * ceiling);
  const floor = Math.ceil(options.retryAfterSeconds ?? 0);
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(1, jittered, floor));
}
