/**
 * One gRPC call as one HTTP/1.1 request through `fetch` (workerd has no HTTP/2 client API, hence no real gRPC):
 * POST {server}/modal.client.ModalClient/{Method}, one request frame, a body of response frames back.
 *
 * What fetch hides is the crux: trailers. A success's `grpc-status: 0` arrives as a trailer we cannot read, so a
 * body of complete frames counts as success. Errors are readable when the server answers "trailers-only" (status
 * in the headers, empty body), which is what gRPC servers do for a call that fails before its first message.
 * An empty body with no status at all is ambiguous (the status may have been in a trailer) and is reported as a
 * retryable UNKNOWN for unary calls, never as success.
 */
import type { UpstreamError } from "../../../errors.ts";
import { DeadlineExceededError, withDeadline } from "../../../net/deadline.ts";
import { retryAfterSeconds as retryAfterHeader } from "../../../net/retry-after.ts";
import { modalFailure } from "./errors.ts";
import { FramingError, frameMessage, parseFrames } from "./framing.ts";
import { decodeGrpcMessage, GrpcCode, grpcCodeForHttpStatus, retryAfterFromStatusDetails } from "./status.ts";

/** The part of `fetch` we use; the Worker passes the global one, tests may wrap it. */
export type FetchLike = (
  url: string,
  init: {
    method: "POST";
    headers: Record<string, string>;
    body: Uint8Array<ArrayBuffer>;
    signal: AbortSignal;
  },
) => Promise<Response>;

export interface Exchange {
  url: string;
  /** The RPC name, for errors. */
  method: string;
  headers: Record<string, string>;
  message: Uint8Array;
  timeoutMs: number;
  /** Server streams may legitimately end with no message; unary calls must return exactly one. */
  stream: boolean;
  redact: (text: string) => string;
  signal?: AbortSignal;
  /** The clock an HTTP-date `Retry-After` is read against; `Date.now` unless a test fixes it. */
  now?: () => number;
}

export async function grpcExchange(fetch: FetchLike, call: Exchange): Promise<Uint8Array[]> {
  let answer: { response: Response; body: Uint8Array };
  try {
    answer = await withDeadline(
      async (signal) => {
        const response = await fetch(call.url, {
          method: "POST",
          headers: call.headers,
          body: frameMessage(call.message),
          signal,
        });
        // The deadline covers the body too: a server that stalls mid-stream is as dead as one that never answers.
        return { response, body: new Uint8Array(await response.arrayBuffer()) };
      },
      { timeoutMs: call.timeoutMs, ...(call.signal === undefined ? {} : { signal: call.signal }) },
    );
  } catch (error) {
    if (error instanceof DeadlineExceededError) {
      throw modalFailure(call.method, {
        code: GrpcCode.DEADLINE_EXCEEDED,
        reason: "timeout",
        detail: `no complete answer within ${call.timeoutMs} ms`,
        cause: error,
      });
    }
    if (call.signal?.aborted) {
      throw modalFailure(call.method, { code: GrpcCode.CANCELLED, reason: "cancelled", cause: error });
    }
    throw modalFailure(call.method, {
      code: GrpcCode.UNAVAILABLE,
      reason: "network",
      detail: call.redact(error instanceof Error ? error.message : String(error)),
      cause: error,
    });
  }
  return interpret(call, answer.response, answer.body);
}

function interpret(call: Exchange, response: Response, body: Uint8Array): Uint8Array[] {
  const headers = response.headers;
  const retryAfterSeconds =
    retryAfterFromStatusDetails(headers.get("grpc-status-details-bin")) ??
    retryAfterHeader(headers.get("retry-after"), (call.now ?? Date.now)());
  const grpcStatus = headers.get("grpc-status");

  if (grpcStatus !== null && grpcStatus !== "0") {
    const code = /^\d{1,2}$/.test(grpcStatus) ? Number(grpcStatus) : GrpcCode.UNKNOWN;
    throw modalFailure(call.method, {
      code,
      detail: call.redact(decodeGrpcMessage(headers.get("grpc-message"))),
      status: response.status,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }

  const contentType = headers.get("content-type") ?? "";
  if (response.status !== 200) {
    throw modalFailure(call.method, {
      code: grpcCodeForHttpStatus(response.status),
      detail: `HTTP ${response.status}${contentType ? ` (${contentType.split(";")[0]})` : ""}`,
      status: response.status,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (!/^application\/grpc(\+proto)?(;|$)/i.test(contentType)) {
    // Something other than a gRPC server answered 200: a captive proxy or a wrong URL. Retrying won't fix it.
    throw modalFailure(call.method, {
      code: GrpcCode.UNKNOWN,
      reason: "not_grpc",
      detail: `HTTP 200 with content-type ${contentType || "(none)"}, not gRPC; is MODAL_SERVER_URL right?`,
      status: 200,
      retryable: false,
    });
  }

  let messages: Uint8Array[];
  try {
    messages = parseFrames(body);
  } catch (error) {
    throw framingFailure(call.method, error);
  }
  if (call.stream) return messages;
  if (messages.length === 0) {
    throw modalFailure(call.method, {
      code: GrpcCode.UNKNOWN,
      reason: "empty_response",
      detail:
        grpcStatus === "0"
          ? "grpc-status 0 without a response message"
          : "no message and no grpc-status (the status may have been in a trailer fetch cannot read)",
      status: 200,
      retryable: grpcStatus !== "0",
    });
  }
  if (messages.length > 1) {
    throw modalFailure(call.method, {
      code: GrpcCode.INTERNAL,
      reason: "bad_response",
      detail: `${messages.length} messages for a unary call`,
      status: 200,
      retryable: false,
    });
  }
  return messages;
}

function framingFailure(method: string, error: unknown): UpstreamError {
  if (!(error instanceof FramingError)) throw error;
  switch (error.kind) {
    case "truncated":
      // A cut connection looks like this: worth another try.
      return modalFailure(method, {
        code: GrpcCode.INTERNAL,
        reason: "truncated_frame",
        detail: error.message,
        status: 200,
        retryable: true,
      });
    case "compressed":
      // We send `grpc-accept-encoding: identity`; a server that compresses anyway will keep doing so.
      return modalFailure(method, {
        code: GrpcCode.UNIMPLEMENTED,
        reason: "compressed_frame",
        detail: error.message,
        status: 200,
        retryable: false,
      });
    default:
      return modalFailure(method, {
        code: GrpcCode.INTERNAL,
        reason: "bad_frame",
        detail: error.message,
        status: 200,
        retryable: false,
      });
  }
}
