/**
 * GitHub's pagination: follow `Link: <…>; rel="next"` until there is none, to a bound. Our credentials go only
 * where the first page came from: a `next` on another origin is a bad response, not a page to fetch.
 */
import type { Logger } from "../log.ts";
import type { Send, SendSpec } from "./credentials.ts";
import { badResponse } from "./errors.ts";
import type { CallResult, OctokitRequest } from "./transport.ts";

/** The `rel="next"` target of a `Link` header, if any. */
export function nextLink(result: CallResult): string | undefined {
  const link = result.headers.link;
  if (typeof link !== "string") return undefined;
  for (const match of link.matchAll(/<([^>]+)>\s*;\s*rel="([^"]+)"/g)) {
    if (match[2] === "next") return match[1];
  }
  return undefined;
}

export interface PagesOptions<T> {
  send: Send;
  spec: SendSpec;
  /** The API base URL, whose origin every `next` must have. */
  baseUrl: string;
  first: (request: OctokitRequest) => Promise<CallResult>;
  /** The items of one page (parsing throws `bad_response` for a body of the wrong shape). */
  items: (data: unknown) => T[];
  /** Stop after this many pages, logging that the list was cut short. */
  maxPages: number;
  logger: Logger;
}

export async function collectPages<T>(options: PagesOptions<T>): Promise<T[]> {
  const { send, spec } = options;
  const origin = new URL(options.baseUrl).origin;
  let result = await send(spec, options.first);
  const all: T[] = [];
  for (let page = 1; ; page++) {
    all.push(...options.items(result.data));
    const next = nextLink(result);
    if (next === undefined) return all;
    if (!URL.canParse(next) || new URL(next).origin !== origin) throw badResponse(spec.operation);
    if (page >= options.maxPages) {
      options.logger.warn("github list truncated", {
        operation: spec.operation,
        subject: spec.subject,
        page,
      });
      return all;
    }
    result = await send(spec, (request) => request(`GET ${next}`));
  }
}
