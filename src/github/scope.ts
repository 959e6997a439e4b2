/**
 * Where runners are registered: on one repository, or on an organization (`RUNNER_SCOPE`). Every runner call
 * takes a scope, because GitHub keeps repository and organization runners under different paths.
 */
export type RunnerScope = { kind: "repo"; owner: string; repo: string } | { kind: "org"; org: string };

/** The scope a job's runner belongs in, from the configured kind and the job's repository. */
export function runnerScopeFor(
  kind: "repo" | "org",
  repository: { owner: string; repo: string },
): RunnerScope {
  return kind === "org"
    ? { kind: "org", org: repository.owner }
    : { kind: "repo", owner: repository.owner, repo: repository.repo };
}

/** The scope of a job's runner from its repository's full name (`owner/repo`). */
export function runnerScopeForRepository(kind: "repo" | "org", fullName: string): RunnerScope {
  const [owner = "", repo = ""] = fullName.split("/");
  return runnerScopeFor(kind, { owner, repo });
}

/** `octo-org/hello` or `org octo-org`, for logs and error messages. */
export function describeScope(scope: RunnerScope): string {
  return scope.kind === "repo" ? `${scope.owner}/${scope.repo}` : `org ${scope.org}`;
}
