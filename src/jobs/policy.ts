/**
 * Which deliveries are ours. Labels are compared case-insensitively (GitHub matches them that way in practice);
 * a job needs every required label. Public repositories are refused by default: a self-hosted runner there lets
 * any fork's pull request run code on our infrastructure.
 */
import type { IntakeConfig } from "../config/intake.ts";
import type { RepoPattern } from "../config/variables.ts";
import type { WorkflowJobPayload } from "./workflow-job.ts";

export type Decision = { accept: true } | { accept: false; reason: string };

export function repoAllowed(patterns: readonly RepoPattern[], fullName: string): boolean {
  if (patterns.length === 0) return true;
  const [owner = "", repo = ""] = fullName.toLowerCase().split("/");
  return patterns.some(
    (pattern) =>
      pattern.owner.toLowerCase() === owner && (pattern.repo === "*" || pattern.repo.toLowerCase() === repo),
  );
}

export function missingLabels(required: readonly string[], labels: readonly string[]): string[] {
  const present = new Set(labels.map((label) => label.toLowerCase()));
  return required.filter((label) => !present.has(label.toLowerCase()));
}

/** The rules on their own, for a job seen anywhere: a delivery, or the reconciler's look at a repository. */
export function decideJob(
  config: IntakeConfig,
  job: { labels: readonly string[]; repository: string; private: boolean },
): Decision {
  const missing = missingLabels(config.requiredLabels, job.labels);
  if (missing.length > 0) return { accept: false, reason: `labels lack ${missing.join(", ")}` };
  if (!repoAllowed(config.allowedRepos, job.repository)) {
    return { accept: false, reason: "repository not in ALLOWED_REPOS" };
  }
  if (!job.private && !config.allowPublicRepos) {
    return { accept: false, reason: "public repository (set ALLOW_PUBLIC_REPOS=true to allow)" };
  }
  return { accept: true };
}

export function decide(config: IntakeConfig, payload: WorkflowJobPayload): Decision {
  return decideJob(config, {
    labels: payload.workflow_job.labels,
    repository: payload.repository.full_name,
    private: payload.repository.private,
  });
}
