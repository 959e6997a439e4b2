/**
 * The one place that decides what becomes of a queue message after a failure: retried on the queue (spending one of
 * its bounded attempts), parked in the ledger (waiting is not failing: it spends nothing), failed for good, or
 * acknowledged. The decision uses the error's own `retryable` flag, reason and code, never the operation that
 * failed; only where the message came from matters (a dispatch waits in the ledger, the others cannot).
 *
 * | what failed                                                | dispatch                 | lifecycle / dead letter |
 * |------------------------------------------------------------|--------------------------|-------------------------|
 * | GitHub rate limit (403/429, `retry-after`, remaining 0)     | park `rate_limited`      | retry, after the wait   |
 * | Modal busy (RESOURCE_EXHAUSTED; the launcher's 429s)        | park `modal_busy`        | retry, after the wait   |
 * | GitHub 401 with a PAT, the first time                      | park `unauthenticated`   | acknowledge             |
 * | any other permanent error                                  | fail                     | acknowledge             |
 * | a retryable error (5xx, timeout, network) or an unknown one | retry with backoff       | retry with backoff      |
 */
import { UpstreamError } from "../errors.ts";
import type { WaitReason } from "../ledger/types.ts";
import { retryDelaySeconds } from "./backoff.ts";

export type Settlement =
  | { action: "retry"; delaySeconds: number }
  | {
      action: "park";
      reason: Extract<WaitReason, "rate_limited" | "modal_busy" | "unauthenticated">;
      untilMs: number;
    }
  | { action: "fail" }
  | { action: "ack" };

export interface SettleContext {
  kind: "dispatch" | "lifecycle" | "dead-letter";
  /** The Queue's delivery attempts so far (from 1). */
  attempts: number;
  now: number;
  random: () => number;
  /** GitHub credentials are a PAT (a 401 may be a token being rotated). */
  pat: boolean;
  /** This job's 401 was already re-checked once. */
  unauthenticatedRechecked: boolean;
}

/** How long a PAT that GitHub refused gets before it is tried once more (a rotation reaching every isolate). */
export const UNAUTHENTICATED_RECHECK_MS = 60_000;
const DEFAULT_BUSY_WAIT_SECONDS = 60;
const MODAL_RESOURCE_EXHAUSTED = 8;

function isRateLimit(error: UpstreamError): boolean {
  return error.service === "github" && error.reason === "rate_limited";
}

function isModalBusy(error: UpstreamError): boolean {
  return (
    (error.service === "modal" && error.grpcCode === MODAL_RESOURCE_EXHAUSTED) ||
    (error.service === "launcher" && (error.reason === "rate_limited" || error.reason === "modal_capacity"))
  );
}

export function settle(error: unknown, context: SettleContext): Settlement {
  const waitSeconds = error instanceof UpstreamError ? error.retryAfterSeconds : undefined;
  const retry = (): Settlement => ({
    action: "retry",
    delaySeconds: retryDelaySeconds({
      attempts: context.attempts,
      retryAfterSeconds: waitSeconds,
      random: context.random,
    }),
  });
  if (!(error instanceof UpstreamError)) return retry();
  const waiting = context.kind === "dispatch";
  if (isRateLimit(error) || isModalBusy(error)) {
    if (!waiting) return retry();
    return {
      action: "park",
      reason: isRateLimit(error) ? "rate_limited" : "modal_busy",
      untilMs: context.now + (waitSeconds ?? DEFAULT_BUSY_WAIT_SECONDS) * 1000,
    };
  }
  if (error.retryable) return retry();
  if (!waiting) return { action: "ack" };
  if (
    error.service === "github" &&
    error.reason === "unauthenticated" &&
    context.pat &&
    !context.unauthenticatedRechecked
  ) {
    return { action: "park", reason: "unauthenticated", untilMs: context.now + UNAUTHENTICATED_RECHECK_MS };
  }
  return { action: "fail" };
}
