/**
 * Maps whatever a GitHub call threw to a `RetryableError` or a `PermanentError`, with a message that says what to
 * check. Messages quote GitHub's own `message` (never a request, a header or a token) and are cut short.
 *
 * | what happened                                         | class     | reason            | retryAfterSeconds     |
 * |-------------------------------------------------------|-----------|-------------------|-----------------------|
 * | network error                                         | retryable | `network`         | —                     |
 * | no answer within the timeout                          | retryable | `timeout`         | —                     |
 * | 5xx                                                   | retryable | `server_error`    | `retry-after` if sent |
 * | 429, or 403 with `retry-after`                        | retryable | `rate_limited`    | `retry-after`, else 60|
 * | 403/429 with `x-ratelimit-remaining: 0`               | retryable | `rate_limited`    | until `x-ratelimit-reset` |
 * | 403 whose message names a rate limit                  | retryable | `rate_limited`    | 60                    |
 * | 401                                                   | permanent | `unauthenticated` | —                     |
 * | 403 otherwise                                         | permanent | `forbidden`       | —                     |
 * | 404                                                   | permanent | `not_found`       | —                     |
 * | 409                                                   | permanent | `conflict`        | —                     |
 * | 422                                                   | permanent | `invalid_request` | —                     |
 * | other 4xx                                             | permanent | `bad_request`     | —                     |
 */
import { PermanentError, RetryableError, type UpstreamError } from "../errors.ts";
import { retryAfterSeconds } from "../net/retry-after.ts";

/** GitHub's advice for secondary rate limits without `retry-after`: wait at least a minute. */
const DEFAULT_RATE_LIMIT_WAIT_SECONDS = 60;
const MAX_QUOTED_MESSAGE = 200;

export interface FailureContext {
  /** The client method, e.g. `generateJitConfig`. */
  operation: string;
  /** What the request was about, e.g. `octo-org/hello` or `org octo-org`. */
  subject: string;
  /** The permission the call needs, in GitHub's words. */
  permission: string;
  /** What to check when the credentials themselves are refused. */
  credentials: string;
  /** Extra advice for a 422. */
  invalid?: string;
  /** Milliseconds since the epoch, for `x-ratelimit-reset`. */
  now: number;
}

/** The shape of `@octokit/request`'s `RequestError`, checked at run time rather than imported. */
export interface HttpFailure {
  status: number;
  headers: Readonly<Record<string, string | number | undefined>>;
  data: unknown;
}

/** The status, headers and body of an HTTP answer that `@octokit/request` threw for; undefined for the rest. */
export function httpFailure(error: unknown): HttpFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const status: unknown = Reflect.get(error, "status");
  if (typeof status !== "number") return undefined;
  const response: unknown = Reflect.get(error, "response");
  if (typeof response !== "object" || response === null) return undefined;
  const headers: unknown = Reflect.get(response, "headers");
  return {
    status,
    headers: typeof headers === "object" && headers !== null ? { ...headers } : {},
    data: Reflect.get(response, "data"),
  };
}

function header(failure: HttpFailure, name: string): string | undefined {
  const value = failure.headers[name];
  return value === undefined ? undefined : String(value);
}

/** GitHub's `message`, quoted for an error message: one line, short. */
function quotedMessage(data: unknown): string {
  if (typeof data !== "object" || data === null) return "";
  const message: unknown = Reflect.get(data, "message");
  if (typeof message !== "string" || message.trim() === "") return "";
  const line = message.replace(/\s+/g, " ").trim();
  return line.length > MAX_QUOTED_MESSAGE ? `${line.slice(0, MAX_QUOTED_MESSAGE)}…` : line;
}

function rateLimitWait(failure: HttpFailure, now: number): number | undefined {
  const retryAfter = retryAfterSeconds(header(failure, "retry-after"), now);
  if (retryAfter !== undefined) return retryAfter;
  if (header(failure, "x-ratelimit-remaining") === "0") {
    const reset = Number(header(failure, "x-ratelimit-reset"));
    if (Number.isFinite(reset) && reset > 0) return Math.max(1, Math.ceil(reset - now / 1000));
  }
  return undefined;
}

function isRateLimited(failure: HttpFailure): boolean {
  if (failure.status === 429) return true;
  if (failure.status !== 403) return false;
  return (
    header(failure, "retry-after") !== undefined ||
    header(failure, "x-ratelimit-remaining") === "0" ||
    /rate limit/i.test(quotedMessage(failure.data))
  );
}

export function toGitHubError(error: unknown, context: FailureContext): UpstreamError {
  if (error instanceof RetryableError || error instanceof PermanentError) return error;
  const base = { service: "github" as const, operation: context.operation };
  const failure = httpFailure(error);
  if (failure === undefined) {
    // @octokit/request reports network failures as status 500 without a response; they land here too.
    const detail = error instanceof Error ? `: ${error.message.slice(0, MAX_QUOTED_MESSAGE)}` : "";
    return new RetryableError(`GitHub ${context.operation} (${context.subject}) got no answer${detail}`, {
      ...base,
      reason: "network",
    });
  }

  const { status } = failure;
  const quoted = quotedMessage(failure.data);
  const said = quoted === "" ? `${status}` : `${status} ${quoted}`;
  const prefix = `GitHub ${context.operation} (${context.subject}) failed: ${said}`;

  if (isRateLimited(failure)) {
    const wait = rateLimitWait(failure, context.now) ?? DEFAULT_RATE_LIMIT_WAIT_SECONDS;
    return new RetryableError(`${prefix}; rate limited, retry in ${wait}s`, {
      ...base,
      reason: "rate_limited",
      status,
      retryAfterSeconds: wait,
    });
  }
  if (status >= 500) {
    const wait = retryAfterSeconds(header(failure, "retry-after"), context.now);
    return new RetryableError(prefix, {
      ...base,
      reason: "server_error",
      status,
      ...(wait === undefined ? {} : { retryAfterSeconds: wait }),
    });
  }
  switch (status) {
    case 401:
      return new PermanentError(`${prefix}. GitHub refused the credentials: ${context.credentials}`, {
        ...base,
        reason: "unauthenticated",
        status,
      });
    case 403:
      return new PermanentError(`${prefix}. Check permissions: ${context.permission}`, {
        ...base,
        reason: "forbidden",
        status,
      });
    case 404:
      return new PermanentError(
        `${prefix}. Check that ${context.subject} exists and that the credentials can see it: ${context.permission}`,
        { ...base, reason: "not_found", status },
      );
    case 409:
      return new PermanentError(prefix, { ...base, reason: "conflict", status });
    case 422:
      return new PermanentError(
        context.invalid === undefined ? prefix : `${prefix}. Check ${context.invalid}`,
        { ...base, reason: "invalid_request", status },
      );
    default:
      return new PermanentError(prefix, { ...base, reason: "bad_request", status });
  }
}

/** A 2xx whose body is not what GitHub documents. The body is never quoted: it may hold a JIT config or a token. */
export function badResponse(operation: string): RetryableError {
  return new RetryableError(`GitHub ${operation}: the response does not have the expected shape`, {
    service: "github",
    operation,
    reason: "bad_response",
  });
}
