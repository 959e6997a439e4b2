/** The client the Worker uses, built from its configuration. */
import { DEFAULT_GITHUB_API_URL, type GitHubConfig } from "../config/dispatch.ts";
import type { Logger } from "../log.ts";
import { createGitHubClient, type GitHubClient, type RateLimitSignal } from "./client.ts";

export interface GitHubClientDeps {
  fetch: typeof fetch;
  now: () => number;
  logger?: Logger;
  timeoutMs?: number;
  onRateLimit?: (signal: RateLimitSignal) => void;
}

/**
 * GitHub Enterprise Server (`…/api/v3`) and GHE.com (`api.<name>.ghe.com`) do not host `actions/runner`: its
 * releases are read from github.com there, anonymously.
 */
export function releasesBaseUrlFor(apiUrl: string): string | undefined {
  const url = new URL(apiUrl);
  const enterprise = /\/api\/v3\/?$/.test(url.pathname) || url.hostname.endsWith(".ghe.com");
  return enterprise ? DEFAULT_GITHUB_API_URL : undefined;
}

/**
 * Keep the result at module scope (one per isolate): it holds the App's installation-token cache.
 */
export function createGitHubClientFromConfig(config: GitHubConfig, deps: GitHubClientDeps): GitHubClient {
  const releasesBaseUrl = releasesBaseUrlFor(config.apiUrl);
  return createGitHubClient({
    baseUrl: config.apiUrl,
    auth: config.auth,
    ...deps,
    ...(releasesBaseUrl === undefined ? {} : { releasesBaseUrl }),
  });
}
