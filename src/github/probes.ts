/**
 * Calls that prove credentials without changing anything, for the deep health check: the App as its JWT sees
 * it (`GET /app`), and a credential's own budget (`GET /rate_limit`, which GitHub answers without spending any
 * of it, and refuses with 401 for a token it does not know).
 */
import type { Send } from "./credentials.ts";
import { AppSchema, parseResponse, RateLimitOverviewSchema } from "./schemas.ts";

export interface AppInfo {
  id: number;
  slug: string | undefined;
  name: string;
  /** The App's page on GitHub; its installation page is `<htmlUrl>/installations/new`. */
  htmlUrl: string;
  installationsCount: number | undefined;
}

export interface RateLimitInfo {
  limit: number;
  remaining: number;
  /** Milliseconds since the epoch. */
  resetAt: number;
  /**
   * A classic token's OAuth scopes (`x-oauth-scopes`); undefined for fine-grained tokens and installations,
   * whose permissions GitHub does not list here.
   */
  scopes: string[] | undefined;
}

export async function getApp(appSend: Send): Promise<AppInfo> {
  const result = await appSend(
    {
      operation: "getApp",
      subject: "the App",
      permission: "the App's own JWT (GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY)",
    },
    (request) => request("GET /app"),
  );
  const app = parseResponse(AppSchema, "getApp", result.data);
  return {
    id: app.id,
    slug: app.slug,
    name: app.name,
    htmlUrl: app.html_url,
    installationsCount: app.installations_count,
  };
}

export async function getRateLimit(send: Send): Promise<RateLimitInfo> {
  const result = await send(
    { operation: "getRateLimit", subject: "the credential", permission: "none: any valid credential" },
    (request) => request("GET /rate_limit"),
    { required: false },
  );
  const { core } = parseResponse(RateLimitOverviewSchema, "getRateLimit", result.data).resources;
  const scopes = result.headers["x-oauth-scopes"];
  return {
    limit: core.limit,
    remaining: core.remaining,
    resetAt: core.reset * 1000,
    scopes:
      scopes === undefined
        ? undefined
        : String(scopes)
            .split(",")
            .map((scope) => scope.trim())
            .filter((scope) => scope !== ""),
  };
}
