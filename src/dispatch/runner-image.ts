/**
 * The image a runner sandbox starts from. `RUNNER_IMAGE` wins; otherwise the official image for
 * `RUNNER_VERSION`, where `latest` means the newest actions/runner release as GitHub reports it — looked up at
 * most once a day, because GitHub stops accepting runners that fall too far behind and a pinned default goes stale.
 */
import type { DispatchConfig } from "../config/dispatch.ts";

export const OFFICIAL_RUNNER_IMAGE = "ghcr.io/actions/actions-runner";

/** `latestVersion` is called only when the configuration asks for the latest release (and may be cached). */
export async function resolveRunnerImage(
  config: DispatchConfig,
  latestVersion: () => Promise<string>,
): Promise<string> {
  if (config.runner.image !== undefined) return config.runner.image;
  if (config.github.runnerVersion !== "latest")
    return `${OFFICIAL_RUNNER_IMAGE}:${config.github.runnerVersion}`;
  return `${OFFICIAL_RUNNER_IMAGE}:${await latestVersion()}`;
}
