/**
 * One GitHub call: `@octokit/request` with our headers, the injected `fetch`, a deadline, a log line and the
 * error mapping. Each call gets its own deadline; nothing is retried here: the queue consumer owns retries and
 * their backoff, so a failure surfaces once, typed.
 */
import { request as octokitRequest } from "@octokit/request";
import { RetryableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { DeadlineExceededError, withDeadline } from "../net/deadline.ts";
import { type FailureContext, httpFailure, toGitHubError } from "./errors.ts";
import { budgetOf, failureSignal, type RateLimitSignal } from "./rate-limit.ts";

export type OctokitRequest = typeof octokitRequest;

/** GitHub's REST API version we were written against; GitHub answers it for at least 24 months after a successor. */
export const GITHUB_API_VERSION = "2022-11-28";

export interface TransportOptions {
  baseUrl: string;
  fetch: typeof fetch;
  now: () => number;
  logger: Logger;
  timeoutMs: number;
  userAgent: string;
  /** Told what every answer says about rate limits (rate-limit.ts). */
  onRateLimit?: (signal: RateLimitSignal) => void;
}

export interface CallSpec extends Omit<FailureContext, "now"> {
  /** `Bearer …`, or undefined for an anonymous call. */
  authorization: string | undefined;
  /** Whose budget the call spends: `pat:<hash>`, `installation:<id>`, `app:<id>` or `anonymous`. */
  credential: string;
}

export interface CallResult {
  status: number;
  headers: Readonly<Record<string, string | number | undefined>>;
  data: unknown;
}

export interface Transport {
  readonly baseUrl: string;
  send(spec: CallSpec, call: (request: OctokitRequest) => Promise<CallResult>): Promise<CallResult>;
  /** A credential's budget on this host: `<origin><path>|<credential>`. */
  credentialKey(credential: string): string;
}

export function createTransport(options: TransportOptions): Transport {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const base = octokitRequest.defaults({
    baseUrl,
    headers: {
      accept: "application/vnd.github+json",
      "x-github-api-version": GITHUB_API_VERSION,
      "user-agent": options.userAgent,
    },
    request: {
      fetch: options.fetch,
      // @octokit/request warns about deprecated endpoints through this; keep it in our log format.
      log: {
        debug: () => {},
        info: () => {},
        warn: (message: string) => options.logger.warn(message),
        error: (message: string) => options.logger.error(message),
      },
    },
  });

  const url = new URL(baseUrl);
  const host = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  const credentialKey = (credential: string) => `${host}|${credential}`;
  const signal = (value: RateLimitSignal | undefined) => {
    if (value === undefined || options.onRateLimit === undefined) return;
    try {
      options.onRateLimit(value);
    } catch (error) {
      // A listener's bug must not fail the call it was told about.
      options.logger.warn("github rate-limit listener threw", {
        operation: value.operation,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  return {
    baseUrl,
    credentialKey,
    async send(spec, call) {
      const { authorization, credential: _credential, ...context } = spec;
      const credential = credentialKey(spec.credential);
      const started = options.now();
      try {
        const result = await withDeadline(
          (abort) =>
            call(
              base.defaults({
                headers: authorization === undefined ? {} : { authorization },
                request: { signal: abort },
              }),
            ),
          { timeoutMs: options.timeoutMs },
        );
        const budget = budgetOf(result.headers);
        if (budget !== undefined) signal({ credential, operation: spec.operation, ...budget });
        options.logger.debug("github call", {
          operation: spec.operation,
          subject: spec.subject,
          status: result.status,
          durationMs: options.now() - started,
        });
        return result;
      } catch (error) {
        const timedOut = error instanceof DeadlineExceededError;
        const mapped = timedOut
          ? new RetryableError(
              `GitHub ${spec.operation} (${spec.subject}) did not answer within ${options.timeoutMs} ms`,
              { service: "github", operation: spec.operation, reason: "timeout" },
            )
          : toGitHubError(error, { ...context, now: options.now() });
        const failure = timedOut ? undefined : httpFailure(error);
        if (failure !== undefined) {
          signal(
            failureSignal(mapped, failure.headers, {
              credential,
              operation: spec.operation,
              now: options.now(),
            }),
          );
        }
        options.logger.debug("github call failed", {
          operation: spec.operation,
          subject: spec.subject,
          status: mapped.status,
          reason: mapped.reason,
          durationMs: options.now() - started,
        });
        throw mapped;
      }
    },
  };
}
