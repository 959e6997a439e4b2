/**
 * The two kinds of upstream failure every client reports. dispatch/settle.ts decides ack / retry / park / fail
 * from the error's `retryable` flag, reason, code and `retryAfterSeconds`, so clients never need to know about queues.
 */
export type Service = "github" | "modal" | "launcher";

export interface UpstreamErrorDetails {
  service: Service;
  /** The call that failed, e.g. `generateJitConfig` or `SandboxCreateV2`. */
  operation: string;
  /** A stable, machine-readable tag: `rate_limited`, `unauthenticated`, `timeout`, `bad_response`, … */
  reason: string;
  /** HTTP status, when there was one. */
  status?: number;
  /** gRPC status code, when there was one. */
  grpcCode?: number;
  /** How long the upstream asked us to wait before trying again. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export abstract class UpstreamError extends Error {
  abstract readonly retryable: boolean;
  readonly service: Service;
  readonly operation: string;
  readonly reason: string;
  readonly status: number | undefined;
  readonly grpcCode: number | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, details: UpstreamErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.service = details.service;
    this.operation = details.operation;
    this.reason = details.reason;
    this.status = details.status;
    this.grpcCode = details.grpcCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** Worth trying again later: 429, 5xx, timeouts, network errors, gRPC 1/2/4/8/10/13/14. */
export class RetryableError extends UpstreamError {
  override readonly name = "RetryableError";
  readonly retryable = true;
}

/** Trying again will not help until someone changes something (a token, a permission, the request). */
export class PermanentError extends UpstreamError {
  override readonly name = "PermanentError";
  readonly retryable = false;
}

/** Unknown failures (bugs, runtime errors) are treated as retryable: the queue's retry limit bounds them. */
export function isRetryable(error: unknown): boolean {
  return error instanceof UpstreamError ? error.retryable : true;
}
