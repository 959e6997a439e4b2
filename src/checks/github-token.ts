/**
 * GitHub checks with a PAT: the token itself (`GET /rate_limit`, which spends none of its hourly budget), then
 * runner access on each scope ALLOWED_REPOS names (targets.ts). A token GitHub refuses stops there: every other
 * call would be refused the same way.
 */
import type { GitHubClient, RateLimitInfo } from "../github/client.ts";
import { type CheckResult, passed } from "./check.ts";
import { checkRunnerAccess, githubFailure } from "./github-access.ts";
import { type Targets, targetsNote } from "./targets.ts";

const TOKEN_FIX =
  "GITHUB_TOKEN is wrong, expired or revoked: create a new one (classic with the repo scope, plus admin:org for RUNNER_SCOPE=org; or fine-grained with the permission the README names) and set it with `wrangler secret put GITHUB_TOKEN`";

/** GitHub's prefix of fine-grained personal access tokens (classic ones start `ghp_`). */
const FINE_GRAINED_PREFIX = "github_pat_";

function describeToken(token: string, rate: RateLimitInfo): string {
  // Fine-grained tokens say nothing of their permissions; classic ones list their scopes in `x-oauth-scopes`.
  if (token.startsWith(FINE_GRAINED_PREFIX)) return "a fine-grained token";
  if (rate.scopes !== undefined) {
    return `a classic token with the scopes ${rate.scopes.length === 0 ? "(none)" : rate.scopes.join(", ")}`;
  }
  return token.startsWith("ghp_") ? "a classic token" : "a token";
}

export async function checkToken(
  client: GitHubClient,
  token: string,
  kind: "repo" | "org",
  targets: Targets,
): Promise<CheckResult[]> {
  let rate: RateLimitInfo;
  try {
    rate = await client.getRateLimit();
  } catch (error) {
    return [githubFailure("github.token", error, { unauthenticated: TOKEN_FIX })];
  }
  const accepted = passed(
    "github.token",
    `GitHub accepts GITHUB_TOKEN, ${describeToken(token, rate)}; ${rate.remaining} of its ${rate.limit} calls an hour are left${targetsNote(kind, targets)}`,
  );
  const fineGrained = token.startsWith(FINE_GRAINED_PREFIX);
  const access = await Promise.all(
    targets.scopes.map((scope) => checkRunnerAccess(client, scope, { kind: "token", fineGrained })),
  );
  return [accepted, ...access];
}
