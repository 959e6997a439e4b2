/**
 * The GitHub checks: with a PAT (github-token.ts) or as a GitHub App (github-app.ts), with a client of their own
 * — built for each run, so that a token exchange or a JWT is proven now, not remembered from the dispatcher's
 * cache. Every call reads; none registers a runner or changes anything on GitHub.
 */
import type { GitHubConfig } from "../config/dispatch.ts";
import type { RepoPattern } from "../config/variables.ts";
import { createGitHubClientFromConfig } from "../github/from-config.ts";
import { CHECK_TIMEOUT_MS, type CheckDeps, type CheckResult } from "./check.ts";
import { checkApp } from "./github-app.ts";
import { checkToken } from "./github-token.ts";
import { targetsOf } from "./targets.ts";

export async function checkGitHub(
  github: GitHubConfig,
  allowed: readonly RepoPattern[],
  deps: CheckDeps,
): Promise<CheckResult[]> {
  const client = createGitHubClientFromConfig(github, { ...deps, timeoutMs: CHECK_TIMEOUT_MS });
  const targets = targetsOf(github.runnerScope, allowed);
  return github.auth.kind === "token"
    ? checkToken(client, github.auth.token, github.runnerScope, targets)
    : checkApp(client, github.auth, github.runnerScope, allowed, targets);
}
