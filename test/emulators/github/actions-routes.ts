/**
 * Jobs and workflow runs: one job, a run's jobs (`filter`, paging, `Link`), and a repository's runs (`status`,
 * paging, `Link`). All need "Actions: read" on the repository.
 */
import {
  type ApiRequest,
  type ApiResponse,
  fail,
  integerParam,
  invalidEnum,
  notFound,
  perPageOf,
  selfUrl,
} from "./api.ts";
import { authorize } from "./auth.ts";
import { jobJson, linkHeader } from "./bodies.ts";
import { runsOf, workflowRunJson } from "./runs.ts";
import { repositoryExists } from "./state.ts";

const RUNS_DOCS = "https://docs.github.com/rest/actions/workflow-runs";
const JOBS_DOCS = "https://docs.github.com/rest/actions/workflow-jobs";
/** The `status` values GitHub's description allows for listing runs: statuses and conclusions. */
const RUN_STATUS_FILTERS = [
  "completed",
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "skipped",
  "stale",
  "success",
  "timed_out",
  "in_progress",
  "queued",
  "requested",
  "waiting",
  "pending",
] as const;
const JOB_FILTERS = ["latest", "all"] as const;

/** 404 for a missing repository, then "Actions: read". */
function guard(request: ApiRequest): ApiResponse | undefined {
  const { owner = "", repo = "" } = request.params;
  if (!repositoryExists(request.ns, owner, repo)) return notFound();
  const denial = authorize(request.identity, { account: owner, permission: "actions", level: "read" });
  return denial === undefined ? undefined : fail(denial.status, denial.message);
}

/** One page of `items` with GitHub's `page` / `per_page` and its `Link` header. */
function paged<T>(request: ApiRequest, items: T[]): { page: T[]; headers?: Record<string, string> } {
  const perPage = perPageOf(request.url);
  const page = integerParam(request.url.searchParams.get("page"), 1);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const link = linkHeader(selfUrl(request), page, lastPage);
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    ...(link === undefined ? {} : { headers: { link } }),
  };
}

function getJob(request: ApiRequest): ApiResponse {
  const denied = guard(request);
  if (denied !== undefined) return denied;
  const { owner = "", repo = "", job_id: jobId = "" } = request.params;
  const job = request.ns.jobs.get(Number(jobId));
  if (job === undefined || `${job.owner}/${job.repo}`.toLowerCase() !== `${owner}/${repo}`.toLowerCase()) {
    return notFound();
  }
  return { status: 200, body: jobJson(job, request.base) };
}

function listJobsForRun(request: ApiRequest): ApiResponse {
  const denied = guard(request);
  if (denied !== undefined) return denied;
  const { owner = "", repo = "", run_id: runId = "" } = request.params;
  const filter = request.url.searchParams.get("filter") ?? "latest";
  if (!JOB_FILTERS.some((allowed) => allowed === filter)) {
    return invalidEnum("filter", filter, JOB_FILTERS, JOBS_DOCS);
  }
  const run = runsOf(request.ns, owner, repo).find((candidate) => candidate.id === Number(runId));
  if (run === undefined) return notFound(JOBS_DOCS);
  // `latest`: the jobs of the run's most recent attempt; `all`: every attempt's.
  const jobs = run.jobs
    .filter((job) => filter === "all" || job.runAttempt === run.runAttempt)
    .sort((a, b) => a.id - b.id);
  const { page, headers } = paged(request, jobs);
  return {
    status: 200,
    body: { total_count: jobs.length, jobs: page.map((job) => jobJson(job, request.base)) },
    ...(headers === undefined ? {} : { headers }),
  };
}

function listRuns(request: ApiRequest): ApiResponse {
  const denied = guard(request);
  if (denied !== undefined) return denied;
  const { owner = "", repo = "" } = request.params;
  const status = request.url.searchParams.get("status");
  if (status !== null && !RUN_STATUS_FILTERS.some((allowed) => allowed === status)) {
    return invalidEnum("status", status, RUN_STATUS_FILTERS, RUNS_DOCS);
  }
  // GitHub's `status` matches a run's status or its conclusion.
  const runs = runsOf(request.ns, owner, repo).filter(
    (run) => status === null || run.status === status || run.conclusion === status,
  );
  const { page, headers } = paged(request, runs);
  return {
    status: 200,
    body: {
      total_count: runs.length,
      workflow_runs: page.map((run) => workflowRunJson(request.ns, run, request.base)),
    },
    ...(headers === undefined ? {} : { headers }),
  };
}

export const ACTIONS_ROUTES = [
  { method: "GET", template: "/repos/{owner}/{repo}/actions/jobs/{job_id}", handle: getJob },
  { method: "GET", template: "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs", handle: listJobsForRun },
  { method: "GET", template: "/repos/{owner}/{repo}/actions/runs", handle: listRuns },
];
