/**
 * gRPC status codes and what they mean for us. The retryable set follows the gRPC guidance and the official SDK
 * (which retries 1, 2, 4, 13, 14): transient server states are worth another attempt, while a bad request, a
 * missing object or a rejected token will fail the same way until someone changes something.
 */
import { read, readMessage } from "../messages/wire.ts";

export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const NAMES = Object.fromEntries(Object.entries(GrpcCode).map(([name, code]) => [code, name]));

export function grpcCodeName(code: number): string {
  return NAMES[code] ?? `CODE_${code}`;
}

/** Worth retrying later (RetryableError). RESOURCE_EXHAUSTED and ABORTED belong here but are not retried in-call. */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([1, 2, 4, 8, 10, 13, 14]);

/** Worth an immediate retry inside the same call, with a short backoff (the SDK's set). */
export const RETRY_IN_CALL_CODES: ReadonlySet<number> = new Set([1, 2, 4, 13, 14]);

/**
 * A non-200 HTTP status without a grpc-status, mapped as the gRPC spec's "HTTP to gRPC status code mapping" does
 * (a proxy or load balancer answered instead of Modal).
 */
export function grpcCodeForHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

/** `grpc-message` is percent-encoded; a malformed escape leaves the text as it came. */
export function decodeGrpcMessage(value: string | null): string {
  if (value === null) return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Modal puts a retry delay in `grpc-status-details-bin` (google.rpc.Status{ details=3 → Any{ type_url=1,
 * value=2 } } holding a `modal.client.RPCRetryPolicy{ retry_after_secs=1 float }`). In a trailers-only answer that
 * header is readable, so we honour it; anything unreadable is ignored.
 */
export function retryAfterFromStatusDetails(value: string | null): number | undefined {
  if (value === null || value === "") return undefined;
  try {
    const binary = atob(
      value
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(value.length / 4) * 4, "="),
    );
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    let retryAfter: number | undefined;
    readMessage(bytes, {
      3: read.bytes((any) => {
        let typeUrl = "";
        let policy: Uint8Array | undefined;
        readMessage(any, {
          1: read.string((value) => (typeUrl = value)),
          2: read.bytes((value) => (policy = value)),
        });
        if (policy !== undefined && typeUrl.endsWith("/modal.client.RPCRetryPolicy")) {
          readMessage(policy, { 1: read.float((value) => (retryAfter = value)) });
        }
      }),
    });
    return retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0
      ? retryAfter
      : undefined;
  } catch {
    return undefined;
  }
}
