/**
 * The image a runner sandbox starts from. `RUNNER_IMAGE` wins; otherwise the official image for
 * `RUNNER_VERSION`, where `latest` means the newest actions/runner release as GitHub reports it — looked up at
 * most once a day, because GitHub stops accepting runners that fall too far behind and a pinned default goes stale.
 */
import type { DispatchConfig } from "../config.ts";
import type { GitHubClient } from "../github/client.ts";
import { cacheKeys } from "./isolate-cache.ts";

export const OFFICIAL_RUNNER_IMAGE = "ghcr.io/actions/actions-runner";

export interface ResolvedImage {
  image: string;
  /** A version looked up just now, to be cached. */
  lookedUp?: string;
}

export async function resolveRunnerImage(
  config: DispatchConfig,
  cached: (key: string) => string | undefined,
  github: Pick<GitHubClient, "getLatestRunnerRelease">,
): Promise<ResolvedImage> {
  if (config.runner.image !== undefined) return { image: config.runner.image };
  if (config.github.runnerVersion !== "latest") {
    return { image: `${OFFICIAL_RUNNER_IMAGE}:${config.github.runnerVersion}` };
  }
  const known = cached(cacheKeys.runnerVersion.key);
  if (known !== undefined) return { image: `${OFFICIAL_RUNNER_IMAGE}:${known}` };
  const release = await github.getLatestRunnerRelease();
  return { image: `${OFFICIAL_RUNNER_IMAGE}:${release.version}`, lookedUp: release.version };
}
