/**
 * Workflow runs and their jobs, the reconciler's bulk reads: one call lists every job of a run (GitHub's
 * `filter=latest`: the jobs of its most recent attempt), another a repository's runs in a status. Both page
 * through `Link` to a bound.
 */
import type { Logger } from "../log.ts";
import type { Send } from "./credentials.ts";
import { collectPages } from "./pages.ts";
import {
  type Job,
  JobListSchema,
  parseResponse,
  toJob,
  toWorkflowRun,
  type WorkflowRun,
  WorkflowRunListSchema,
} from "./schemas.ts";

const PER_PAGE = 100;
/** A run's jobs: 1,000 is well past a matrix's 256. */
const MAX_JOB_PAGES = 10;
/** Runs in one status: 1,000 queued or running runs is more than a reconciliation pass should take on. */
const MAX_RUN_PAGES = 10;

/** The `status` filter of `GET …/actions/runs`: a status, or a conclusion. */
export type RunStatusFilter =
  | "queued"
  | "in_progress"
  | "completed"
  | "waiting"
  | "requested"
  | "pending"
  | "action_required"
  | "cancelled"
  | "failure"
  | "neutral"
  | "skipped"
  | "stale"
  | "success"
  | "timed_out";

export interface ListRunsOptions {
  status?: RunStatusFilter;
}

export function actionsPermission(owner: string, repo: string): string {
  return `"Actions: read" on ${owner}/${repo} (fine-grained token or GitHub App), or the classic token scope "repo"`;
}

export function listJobsForRun(
  send: Send,
  options: { baseUrl: string; logger: Logger },
  target: { owner: string; repo: string; runId: number },
): Promise<Job[]> {
  const { owner, repo, runId } = target;
  return collectPages({
    send,
    spec: {
      operation: "listJobsForRun",
      subject: `${owner}/${repo} run ${runId}`,
      permission: actionsPermission(owner, repo),
    },
    baseUrl: options.baseUrl,
    first: (request) =>
      request("GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs", {
        owner,
        repo,
        run_id: runId,
        filter: "latest",
        per_page: PER_PAGE,
      }),
    items: (data) => parseResponse(JobListSchema, "listJobsForRun", data).jobs.map(toJob),
    maxPages: MAX_JOB_PAGES,
    logger: options.logger,
  });
}

export function listRuns(
  send: Send,
  options: { baseUrl: string; logger: Logger },
  target: { owner: string; repo: string },
  filter: ListRunsOptions,
): Promise<WorkflowRun[]> {
  const { owner, repo } = target;
  return collectPages({
    send,
    spec: {
      operation: "listRuns",
      subject: `${owner}/${repo}`,
      permission: actionsPermission(owner, repo),
    },
    baseUrl: options.baseUrl,
    first: (request) =>
      request("GET /repos/{owner}/{repo}/actions/runs", {
        owner,
        repo,
        per_page: PER_PAGE,
        ...(filter.status === undefined ? {} : { status: filter.status }),
      }),
    items: (data) => parseResponse(WorkflowRunListSchema, "listRuns", data).workflow_runs.map(toWorkflowRun),
    maxPages: MAX_RUN_PAGES,
    logger: options.logger,
  });
}
