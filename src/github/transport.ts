/**
 * One GitHub call: `@octokit/request` with our headers, the injected `fetch`, a deadline, a log line and the
 * error mapping. Each call gets its own deadline; nothing is retried here: the queue consumer owns retries and
 * their backoff, so a failure surfaces once, typed.
 */
import { request as octokitRequest } from "@octokit/request";
import { RetryableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type FailureContext, toGitHubError } from "./errors.ts";

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
}

export interface CallSpec extends Omit<FailureContext, "now"> {
  /** `Bearer …`, or undefined for an anonymous call. */
  authorization: string | undefined;
}

export interface CallResult {
  status: number;
  headers: Readonly<Record<string, string | number | undefined>>;
  data: unknown;
}

export interface Transport {
  readonly baseUrl: string;
  send(spec: CallSpec, call: (request: OctokitRequest) => Promise<CallResult>): Promise<CallResult>;
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

  return {
    baseUrl,
    async send(spec, call) {
      const { authorization, ...context } = spec;
      const controller = new AbortController();
      const started = options.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      let timedOut = false;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          controller.abort();
          reject(new Error("timeout"));
        }, options.timeoutMs);
      });
      const request = base.defaults({
        headers: authorization === undefined ? {} : { authorization },
        request: { signal: controller.signal },
      });
      try {
        const result = await Promise.race([call(request), deadline]);
        options.logger.debug("github call", {
          operation: spec.operation,
          subject: spec.subject,
          status: result.status,
          durationMs: options.now() - started,
        });
        return result;
      } catch (error) {
        const mapped = timedOut
          ? new RetryableError(
              `GitHub ${spec.operation} (${spec.subject}) did not answer within ${options.timeoutMs} ms`,
              { service: "github", operation: spec.operation, reason: "timeout" },
            )
          : toGitHubError(error, { ...context, now: options.now() });
        options.logger.debug("github call failed", {
          operation: spec.operation,
          subject: spec.subject,
          status: mapped.status,
          reason: mapped.reason,
          durationMs: options.now() - started,
        });
        throw mapped;
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    },
  };
}
