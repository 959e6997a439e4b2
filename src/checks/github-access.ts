/**
 * What the GitHub checks share: what a failed call means and what to do about it, the permission registering
 * needs, and the check of runner access on one scope — proven by listing, never by registering.
 */
import { UpstreamError } from "../errors.ts";
import type { GitHubClient } from "../github/client.ts";
import { runnerPermission } from "../github/runners.ts";
import { describeScope, type RunnerScope } from "../github/scope.ts";
import { type CheckResult, failed, messageOf, passed } from "./check.ts";

const GITHUB_STATUS = "https://www.githubstatus.com";

/** Fixes for failures that mean the same whatever the call. */
const GENERIC_FIXES: Readonly<Record<string, string>> = {
  rate_limited:
    "GitHub rate-limits this credential right now: wait as long as GitHub asked (the detail says), then check again",
  network: `GitHub did not answer: check GITHUB_API_URL (or GITHUB_ENTERPRISE_DOMAIN) and ${GITHUB_STATUS}`,
  timeout: `GitHub did not answer in time: check GITHUB_API_URL (or GITHUB_ENTERPRISE_DOMAIN) and ${GITHUB_STATUS}`,
  server_error: `GitHub answered with a server error: check again later, and ${GITHUB_STATUS}`,
  bad_response:
    "the answer is not GitHub's: GITHUB_API_URL must be GitHub's REST API (https://api.github.com, or https://<host>/api/v3)",
};

/** A failed call as a failed check: the client's message (which names no secret), and the fix for its reason. */
export function githubFailure(
  name: string,
  error: unknown,
  fixes: Readonly<Partial<Record<string, string>>>,
): CheckResult {
  const reason = error instanceof UpstreamError ? error.reason : "unexpected";
  const fix = fixes[reason] ?? GENERIC_FIXES[reason] ?? "see the detail; the Worker's log has the same line";
  return failed(name, messageOf(error), fix);
}

/** The permission registering runners needs, as GitHub names it in App settings and in a token's grants. */
export function registrationPermission(kind: "repo" | "org"): { key: string; label: string } {
  return kind === "repo"
    ? { key: "administration", label: `"Administration" (a repository permission)` }
    : {
        key: "organization_self_hosted_runners",
        label: `"Self-hosted runners" (an organization permission)`,
      };
}

export type RunnerCredential =
  | { kind: "token"; fineGrained: boolean }
  | { kind: "app"; installationId: number };

function accessFixes(scope: RunnerScope, credential: RunnerCredential): Partial<Record<string, string>> {
  const subject = describeScope(scope);
  if (credential.kind === "app") {
    return {
      forbidden: `give the App ${registrationPermission(scope.kind).label}: read & write, and approve the new permissions on installation ${credential.installationId}`,
      not_found:
        scope.kind === "repo"
          ? `check ${subject} in ALLOWED_REPOS: it must exist, and installation ${credential.installationId} must include it (the installation's "Repository access" setting)`
          : `${scope.org} must be an organization the App is installed on; for a user's repositories use RUNNER_SCOPE=repo`,
      unauthenticated:
        "GitHub refused a token it issued a moment ago: check again; if it persists, reinstall the App",
    };
  }
  return {
    forbidden: `give GITHUB_TOKEN ${runnerPermission(scope)}; an organization that restricts fine-grained tokens must also approve it`,
    not_found:
      scope.kind === "repo"
        ? `check ${subject} in ALLOWED_REPOS: GitHub answers 404 both for a repository that does not exist and for one the token cannot see — grant a fine-grained token this repository, or use a classic token of a user with admin access to it`
        : `${scope.org} must be an organization whose owners include the token's user; for a user's repositories use RUNNER_SCOPE=repo`,
  };
}

/**
 * Whether the credential may manage the scope's runners, proven without registering one: listing them needs the
 * same access as registering (a classic token: the scope and admin rights; an App or fine-grained token: the
 * same permission, read instead of write).
 */
export async function checkRunnerAccess(
  client: GitHubClient,
  scope: RunnerScope,
  credential: RunnerCredential,
): Promise<CheckResult> {
  const name = `github.runners:${describeScope(scope).replace(/^org /, "")}`;
  let count: number;
  try {
    count = await client.countRunners(scope);
  } catch (error) {
    return githubFailure(name, error, accessFixes(scope, credential));
  }
  const seen = `lists the runners of ${describeScope(scope)} (${count} registered)`;
  if (credential.kind === "app") return passed(name, `installation ${credential.installationId} ${seen}`);
  return passed(
    name,
    credential.fineGrained
      ? `GITHUB_TOKEN ${seen}, so it has ${registrationPermission(scope.kind).label}: read at least; registering needs read & write, which no GitHub call proves short of registering (the first job does)`
      : `GITHUB_TOKEN ${seen}: a classic token that may do this may also register runners there`,
  );
}
