/**
 * What the GitHub checks look at: the runner scopes ALLOWED_REPOS names explicitly — each `owner/repo` with
 * RUNNER_SCOPE=repo, each owner with RUNNER_SCOPE=org (`owner/*` included: the runner goes to the owner's
 * organization). `owner/*` names no repository, so with RUNNER_SCOPE=repo it gives nothing to check. A bound keeps
 * a long allowlist from turning one health check into dozens of calls.
 */
import type { RepoPattern } from "../config/variables.ts";
import { describeScope, type RunnerScope } from "../github/scope.ts";

export const MAX_TARGETS = 10;

export interface Targets {
  scopes: RunnerScope[];
  /** Explicit scopes beyond MAX_TARGETS, not checked. */
  skipped: number;
}

export function targetsOf(kind: "repo" | "org", allowed: readonly RepoPattern[]): Targets {
  const scopes = new Map<string, RunnerScope>();
  for (const pattern of allowed) {
    const scope: RunnerScope | undefined =
      kind === "org"
        ? { kind: "org", org: pattern.owner }
        : pattern.repo === "*"
          ? undefined
          : { kind: "repo", owner: pattern.owner, repo: pattern.repo };
    // GitHub compares owner and repository names without case.
    if (scope !== undefined) scopes.set(describeScope(scope).toLowerCase(), scope);
  }
  const all = [...scopes.values()];
  return { scopes: all.slice(0, MAX_TARGETS), skipped: Math.max(0, all.length - MAX_TARGETS) };
}

/** The owner whose installation or token must reach the scope. */
export function ownerOf(scope: RunnerScope): string {
  return scope.kind === "repo" ? scope.owner : scope.org;
}

/**
 * What the checks could not look at, for the detail of the credential's check: nothing (no explicit scope, and
 * what to add to ALLOWED_REPOS), or the scopes beyond the bound. Empty when every scope was checked.
 */
export function targetsNote(kind: "repo" | "org", targets: Targets): string {
  if (targets.skipped > 0) return `; ${targets.skipped} more ALLOWED_REPOS entries are not checked`;
  if (targets.scopes.length > 0) return "";
  return kind === "repo"
    ? ". ALLOWED_REPOS names no repository (owner/* names none), so only the credential itself was checked: add the owner/repo entries whose jobs this Worker serves to check that runners can be registered there"
    : ". ALLOWED_REPOS names no owner, so only the credential itself was checked: add owner/* (or owner/repo) entries to check that runners can be registered on those organizations";
}
