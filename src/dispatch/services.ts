/**
 * The upstream clients for a configuration, built once per isolate: they hold caches worth keeping (the App's
 * installation tokens, Modal's auth token and image builder version).
 */
import type { DispatchConfig } from "../config/dispatch.ts";
import type { GitHubClient, RateLimitSignal } from "../github/client.ts";
import { createGitHubClientFromConfig } from "../github/from-config.ts";
import type { Logger } from "../log.ts";
import { createModalClient } from "../sandboxes/direct/client.ts";
import { createLauncherClient } from "../sandboxes/launcher/client.ts";
import type { SandboxProvider } from "../sandboxes/provider.ts";

export interface Services {
  github: GitHubClient;
  sandboxes: SandboxProvider;
}

export interface ServiceDeps {
  fetch: typeof fetch;
  now: () => number;
  logger: Logger;
  /** Every rate-limit figure or refusal GitHub's answers carry. */
  onRateLimit?: (signal: RateLimitSignal) => void;
}

/** An image build that takes longer than this is left to a later attempt (Modal keeps building it). */
const IMAGE_BUILD_WAIT_MS = 60_000;

export function createServices(config: DispatchConfig, deps: ServiceDeps): Services {
  const github = createGitHubClientFromConfig(config.github, deps);
  if (config.modal.mode === "launcher") {
    const sandboxes = createLauncherClient({
      url: config.modal.launcherUrl,
      proxyTokenId: config.modal.proxyTokenId,
      proxyTokenSecret: config.modal.proxyTokenSecret,
      launcherSecret: config.modal.launcherSecret,
      fetch: deps.fetch,
      now: deps.now,
      logger: deps.logger,
    });
    return { github, sandboxes };
  }
  const sandboxes = createModalClient({
    serverUrl: config.modal.serverUrl,
    tokenId: config.modal.tokenId,
    tokenSecret: config.modal.tokenSecret,
    fetch: deps.fetch,
    now: deps.now,
    logger: deps.logger,
    imageBuildTimeoutMs: IMAGE_BUILD_WAIT_MS,
    ...(config.modal.environment === undefined ? {} : { environment: config.modal.environment }),
  });
  return { github, sandboxes };
}
