/**
 * Turns every way a Modal call can fail into `RetryableError` / `PermanentError` (src/errors.ts), with the gRPC
 * code, a stable reason tag and a message that says what to do. Server text is passed through `redact` first:
 * Modal may echo parts of a request (a token, an env value) in `grpc-message`, and error messages get logged.
 */
import { PermanentError, RetryableError, type UpstreamError } from "../../../errors.ts";
import { GrpcCode, grpcCodeName, RETRYABLE_CODES } from "./status.ts";

export interface FailureDetails {
  code: number;
  /** Overrides the default tag derived from the code (e.g. `timeout`, `network`, `truncated_frame`). */
  reason?: string;
  /** Server or transport detail, already redacted. */
  detail?: string;
  status?: number;
  retryAfterSeconds?: number;
  /** Overrides the code's default classification. */
  retryable?: boolean;
  cause?: unknown;
}

const HINTS: Partial<Record<number, string>> = {
  [GrpcCode.UNAUTHENTICATED]: "check MODAL_TOKEN_ID / MODAL_TOKEN_SECRET",
  [GrpcCode.PERMISSION_DENIED]: "the Modal token may lack access to this workspace or environment",
  [GrpcCode.UNIMPLEMENTED]: "is MODAL_SERVER_URL a Modal API server, and does it still offer this call?",
};

const MAX_DETAIL = 300;

export function modalFailure(operation: string, details: FailureDetails): UpstreamError {
  const name = grpcCodeName(details.code);
  const detail =
    details.detail === undefined || details.detail === ""
      ? ""
      : `: ${details.detail.length > MAX_DETAIL ? `${details.detail.slice(0, MAX_DETAIL)}…` : details.detail}`;
  const hint = HINTS[details.code];
  const message = `Modal ${operation} failed with ${name} (${details.code})${detail}${hint ? ` (${hint})` : ""}`;
  const retryable = details.retryable ?? RETRYABLE_CODES.has(details.code);
  const init = {
    service: "modal" as const,
    operation,
    reason: details.reason ?? name.toLowerCase(),
    grpcCode: details.code,
    ...(details.status === undefined ? {} : { status: details.status }),
    ...(details.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: details.retryAfterSeconds }),
    ...(details.cause === undefined ? {} : { cause: details.cause }),
  };
  return retryable ? new RetryableError(message, init) : new PermanentError(message, init);
}
