/**
 * What every REST route of the emulator shares: the request it is handed, the answer it gives, GitHub's error
 * bodies and its paging parameters. The routes themselves live in one file per concept (runner-routes.ts,
 * actions-routes.ts, app-routes.ts, hook-routes.ts, meta-routes.ts); routes.ts puts them in one table.
 */
import type { Identity } from "./auth.ts";
import { errorBody } from "./bodies.ts";
import type { Namespace } from "./state.ts";

export interface ApiRequest {
  ns: Namespace;
  url: URL;
  /** The API path, without the namespace and `/api/v3` prefixes. */
  path: string;
  /** Origin and prefixes (`/ns/<name>`, `/api/v3`) that URLs in bodies and `Link` start with. */
  base: string;
  params: Record<string, string>;
  /** Parsed JSON body; undefined when there was none. */
  body: unknown;
  identity: Identity;
  /** The rate-limit budget the call spends (rate-limits.ts names them). */
  credential: string;
  now: number;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  template: string;
  handle(request: ApiRequest): ApiResponse | Promise<ApiResponse>;
}

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;

export const fail = (status: number, message: string, docs?: string): ApiResponse => ({
  status,
  body: errorBody(status, message, docs),
});

export const notFound = (docs?: string) => fail(404, "Not Found", docs);

/** GitHub's answer to an App-only endpoint called with anything but the App's JWT. */
export const jwtRequired = () => fail(401, "A JSON web token could not be decoded");

/** A positive integer query parameter, or the fallback when it is missing or not one. */
export function integerParam(value: string | null, fallback: number): number {
  return value !== null && /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : fallback;
}

/** `per_page`, defaulting to 30 and capped at 100, as GitHub does rather than refusing larger values. */
export function perPageOf(url: URL): number {
  return Math.min(integerParam(url.searchParams.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE);
}

/**
 * GitHub's 422 for a query parameter outside its enumeration (the OpenAPI `validation-error` shape). The wording
 * follows GitHub's schema-validation answers; it was not seen for these exact parameters.
 */
export function invalidEnum(
  name: string,
  value: string,
  allowed: readonly string[],
  docs?: string,
): ApiResponse {
  return {
    status: 422,
    body: {
      message: `Invalid request.\n\nInvalid property /${name}: \`${value}\` is not a possible value. Must be one of the following: ${allowed.join(", ")}.`,
      documentation_url: docs ?? "https://docs.github.com/rest",
    },
  };
}

/** The request's own URL as the client addressed it (namespace and `/api/v3` included), for `Link` headers. */
export function selfUrl(request: ApiRequest): URL {
  return new URL(`${request.base}${request.path}${request.url.search}`);
}
