/**
 * The call layer between the client's methods and the wire: Modal's identifying headers, the auth token,
 * retries with one `x-idempotency-key` per logical call, response decoding and validation.
 *
 * Retry policy, in two tiers:
 * - inside one call: up to `retry.attempts` tries with exponential backoff for transient failures (network,
 *   timeout, a cut body, gRPC 1/2/4/13/14), the SDK's behaviour; a server-requested delay (RPCRetryPolicy,
 *   Retry-After) is waited out when it is short;
 * - beyond that the error surfaces as `RetryableError` (with `retryAfterSeconds` when known) and
 *   dispatch/settle.ts retries the message on the queue, or parks it in the ledger (RESOURCE_EXHAUSTED).
 *   Permanent errors are never retried.
 */
import type * as z from "zod/mini";
import { UpstreamError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { redactor } from "../../redact.ts";
import { createAuthTokenCache } from "./auth-token.ts";
import { modalFailure } from "./grpc/errors.ts";
import { type FetchLike, grpcExchange } from "./grpc/exchange.ts";
import { GrpcCode, RETRY_IN_CALL_CODES } from "./grpc/status.ts";
import { decodeAuthTokenGetResponse } from "./messages/app.ts";
import { ProtoDecodeError } from "./messages/wire.ts";
import { AuthToken } from "./responses.ts";

export interface RetryPolicy {
  /** Tries per logical call, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest server-requested wait sat out inside a call; a longer one is left to the queue. */
  maxInCallWaitSeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  maxInCallWaitSeconds: 2,
};

export interface RpcOptions {
  serverUrl: string;
  tokenId: string;
  tokenSecret: string;
  fetch: FetchLike;
  now: () => number;
  timeoutMs: number;
  retry: RetryPolicy;
  logger: Logger | undefined;
  /** `x-modal-client-version`: the protocol revision Modal gates features on (the JS SDK sends 1.0.0). */
  clientVersion: string;
  /** `x-modal-libmodal-version`: the SDK release whose wire format we are held to by the conformance test. */
  libmodalVersion: string;
  sleep: (ms: number) => Promise<void>;
  randomId: () => string;
}

export interface CallOptions {
  /** Values (e.g. the runner's env) that must never reach an error message. */
  secrets?: readonly string[];
  timeoutMs?: number;
}

export interface Rpc {
  unary<T>(
    method: string,
    request: Uint8Array,
    decode: (bytes: Uint8Array) => T,
    schema?: z.ZodMiniType<unknown>,
    options?: CallOptions,
  ): Promise<T>;
  /** Gets an auth token (AuthTokenGet), or keeps the cached one: proves the token id and secret. */
  authenticate(): Promise<void>;
  /** A server-streaming call: one attempt, all items (the caller polls again as the SDK does). */
  stream<T>(
    method: string,
    request: Uint8Array,
    decode: (bytes: Uint8Array) => T,
    options: CallOptions,
  ): Promise<T[]>;
}

const SERVICE_PATH = "modal.client.ModalClient";
/** `CLIENT_TYPE_LIBMODAL_JS`: Modal decides which features and deprecations apply by client type and version. */
const CLIENT_TYPE_LIBMODAL_JS = "8";

export function createRpc(options: RpcOptions): Rpc {
  const base = options.serverUrl.replace(/\/+$/, "");
  const staticHeaders: Record<string, string> = {
    "content-type": "application/grpc",
    te: "trailers",
    // We cannot inflate gRPC messages; say so, so a compliant server never compresses.
    "grpc-accept-encoding": "identity",
    "user-agent": "actions-on-modal",
    "x-modal-client-type": CLIENT_TYPE_LIBMODAL_JS,
    "x-modal-client-version": options.clientVersion,
    "x-modal-libmodal-version": options.libmodalVersion,
    "x-modal-token-id": options.tokenId,
    "x-modal-token-secret": options.tokenSecret,
    // `:authority` is stripped before Modal's backend reads the request, so the SDK repeats the host here.
    "x-modal-host": new URL(base).hostname,
  };
  const credentials = [options.tokenId, options.tokenSecret];

  const decodeChecked = <T>(
    method: string,
    bytes: Uint8Array,
    decode: (bytes: Uint8Array) => T,
    schema?: z.ZodMiniType<unknown>,
  ): T => {
    let decoded: T;
    try {
      decoded = decode(bytes);
    } catch (error) {
      if (!(error instanceof ProtoDecodeError)) throw error;
      throw modalFailure(method, {
        code: GrpcCode.INTERNAL,
        reason: "bad_response",
        detail: `undecodable response: ${error.message}`,
        retryable: false,
        cause: error,
      });
    }
    const checked = schema?.safeParse(decoded);
    if (checked !== undefined && !checked.success) {
      const fields = checked.error.issues.map((issue) => issue.path.join(".") || "(message)").join(", ");
      throw modalFailure(method, {
        code: GrpcCode.INTERNAL,
        reason: "bad_response",
        detail: `response lacks ${fields}`,
        retryable: false,
      });
    }
    return decoded;
  };

  const exchange = (
    method: string,
    headers: Record<string, string>,
    request: Uint8Array,
    stream: boolean,
    redact: (text: string) => string,
    timeoutMs: number,
  ) =>
    grpcExchange(options.fetch, {
      url: `${base}/${SERVICE_PATH}/${method}`,
      method,
      headers,
      message: request,
      timeoutMs,
      stream,
      redact,
    });

  const unary = async <T>(
    method: string,
    request: Uint8Array,
    decode: (bytes: Uint8Array) => T,
    schema?: z.ZodMiniType<unknown>,
    callOptions: CallOptions = {},
  ): Promise<T> => {
    const idempotencyKey = options.randomId();
    const startedAt = options.now();
    const timeoutMs = callOptions.timeoutMs ?? options.timeoutMs;
    let attempt = 0;
    let throttleRetries = 0;
    let reauthenticated = false;
    for (;;) {
      const headers: Record<string, string> = {
        ...staticHeaders,
        "x-idempotency-key": idempotencyKey,
        "x-retry-attempt": String(attempt),
        "x-throttle-retry-attempt": String(throttleRetries),
      };
      const elapsed = ((options.now() - startedAt) / 1000).toFixed(3);
      if (attempt > 0) headers["x-retry-delay"] = elapsed;
      if (throttleRetries > 0) headers["x-throttle-retry-delay"] = elapsed;
      let authToken: string | undefined;
      if (method !== "AuthTokenGet") {
        authToken = await auth.get();
        headers["x-modal-auth-token"] = authToken;
      }
      const redact = redactor([
        ...credentials,
        ...(authToken === undefined ? [] : [authToken]),
        ...(callOptions.secrets ?? []),
      ]);
      const attemptStart = options.now();
      try {
        const [message = new Uint8Array()] = await exchange(
          method,
          headers,
          request,
          false,
          redact,
          timeoutMs,
        );
        options.logger?.debug("modal call", { method, attempt, durationMs: options.now() - attemptStart });
        return decodeChecked(method, message, decode, schema);
      } catch (error) {
        if (!(error instanceof UpstreamError) || error.operation !== method) throw error;
        const fields = {
          method,
          attempt,
          grpcCode: error.grpcCode,
          reason: error.reason,
          durationMs: options.now() - attemptStart,
        };
        if (error.grpcCode === GrpcCode.UNAUTHENTICATED && authToken !== undefined && !reauthenticated) {
          // Perhaps only the cached JWT went stale (clock skew, revocation): fetch a new one once.
          auth.invalidate(authToken);
          reauthenticated = true;
          options.logger?.warn("modal auth token rejected; fetching a new one", fields);
          continue;
        }
        const wait = error.retryAfterSeconds;
        if (
          wait !== undefined &&
          wait <= options.retry.maxInCallWaitSeconds &&
          throttleRetries < options.retry.attempts - 1
        ) {
          throttleRetries++;
          options.logger?.warn("modal asked us to wait; retrying", { ...fields, retryAfterSeconds: wait });
          await options.sleep(Math.max(wait * 1000, options.retry.baseDelayMs));
          continue;
        }
        if (
          wait === undefined &&
          error.retryable &&
          error.grpcCode !== undefined &&
          RETRY_IN_CALL_CODES.has(error.grpcCode) &&
          attempt + 1 < options.retry.attempts
        ) {
          const delay = Math.min(options.retry.baseDelayMs * 2 ** attempt, options.retry.maxDelayMs);
          attempt++;
          options.logger?.warn("modal call failed; retrying", { ...fields, delayMs: delay });
          await options.sleep(delay);
          continue;
        }
        options.logger?.debug("modal call failed", fields);
        throw error;
      }
    }
  };

  // AuthTokenGet goes through the same retrying call (the SDK retries it too), without an auth token of its own.
  const auth = createAuthTokenCache({
    now: options.now,
    fetchToken: async () =>
      (await unary("AuthTokenGet", new Uint8Array(), decodeAuthTokenGetResponse, AuthToken)).token,
  });

  const stream = async <T>(
    method: string,
    request: Uint8Array,
    decode: (bytes: Uint8Array) => T,
    callOptions: CallOptions,
  ): Promise<T[]> => {
    for (let reauthenticated = false; ; reauthenticated = true) {
      const token = await auth.get();
      const headers = { ...staticHeaders, "x-modal-auth-token": token };
      const redact = redactor([...credentials, token, ...(callOptions.secrets ?? [])]);
      try {
        const timeoutMs = callOptions.timeoutMs ?? options.timeoutMs;
        const messages = await exchange(method, headers, request, true, redact, timeoutMs);
        return messages.map((message) => decodeChecked(method, message, decode));
      } catch (error) {
        // As for unary calls: a rejected JWT gets one fresh token, then the error stands.
        if (
          !(error instanceof UpstreamError) ||
          error.grpcCode !== GrpcCode.UNAUTHENTICATED ||
          reauthenticated
        ) {
          throw error;
        }
        auth.invalidate(token);
      }
    }
  };

  return {
    unary,
    stream,
    async authenticate() {
      await auth.get();
    },
  };
}
