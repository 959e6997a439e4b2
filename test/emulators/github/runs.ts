/**
 * Workflow runs, derived from the namespace's jobs: jobs with one `runId` make one run, and the jobs of its
 * latest attempt decide its status (in progress while any job runs, queued while any waits, completed when all
 * are done) and conclusion. The JSON is GitHub's `workflow-run`.
 */
import { base64, iso } from "./bodies.ts";
import { minimalRepositoryJson } from "./repository-bodies.ts";
import { type JobRecord, type Namespace, repositoryOf } from "./state.ts";

export interface RunRecord {
  id: number;
  owner: string;
  repo: string;
  runAttempt: number;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  createdAt: number;
  updatedAt: number;
  /** Every attempt's jobs. */
  jobs: JobRecord[];
}

const WAITING = new Set(["queued", "waiting", "pending", "requested"]);
/** The conclusion a run takes from its jobs', most severe first. */
const SEVERITY = ["failure", "timed_out", "startup_failure", "cancelled", "action_required"];
/** The commit every emulated run is on. */
export const HEAD_SHA = "f83a356604ae3c5d03e1b46ef4d1ca77d64a90b0";

function summarize(id: number, jobs: JobRecord[]): RunRecord {
  const runAttempt = Math.max(...jobs.map((job) => job.runAttempt));
  const latest = jobs.filter((job) => job.runAttempt === runAttempt);
  const status = latest.some((job) => job.status === "in_progress")
    ? "in_progress"
    : latest.some((job) => WAITING.has(job.status))
      ? "queued"
      : "completed";
  const conclusions = latest.map((job) => job.conclusion);
  const conclusion =
    status !== "completed"
      ? null
      : (SEVERITY.find((value) => conclusions.includes(value)) ??
        (conclusions.every((value) => value === "skipped") ? "skipped" : "success"));
  const times = jobs.flatMap((job) => [job.createdAt, job.startedAt ?? 0, job.completedAt ?? 0]);
  const [first] = jobs;
  return {
    id,
    owner: first?.owner ?? "",
    repo: first?.repo ?? "",
    runAttempt,
    status,
    conclusion,
    createdAt: Math.min(...jobs.map((job) => job.createdAt)),
    updatedAt: Math.max(...times),
    jobs,
  };
}

/** The runs of one repository, newest first (as GitHub lists them). */
export function runsOf(ns: Namespace, owner: string, repo: string): RunRecord[] {
  const key = `${owner}/${repo}`.toLowerCase();
  const byRun = new Map<number, JobRecord[]>();
  for (const job of ns.jobs.values()) {
    if (`${job.owner}/${job.repo}`.toLowerCase() !== key) continue;
    byRun.set(job.runId, [...(byRun.get(job.runId) ?? []), job]);
  }
  return [...byRun.entries()].map(([id, jobs]) => summarize(id, jobs)).sort((a, b) => b.id - a.id);
}

export function workflowRunJson(ns: Namespace, run: RunRecord, base: string) {
  const repository = minimalRepositoryJson(ns, repositoryOf(ns, run.owner, run.repo), base);
  const url = `${base}/repos/${run.owner}/${run.repo}/actions/runs/${run.id}`;
  return {
    id: run.id,
    name: "CI",
    node_id: base64(`WFR_${run.id}`),
    check_suite_id: run.id + 1,
    head_branch: "main",
    head_sha: HEAD_SHA,
    path: ".github/workflows/ci.yml",
    run_number: run.id % 100_000,
    run_attempt: run.runAttempt,
    event: "push",
    display_title: "CI",
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: 161_335,
    url,
    html_url: `https://github.com/${run.owner}/${run.repo}/actions/runs/${run.id}`,
    pull_requests: [],
    created_at: iso(run.createdAt),
    updated_at: iso(run.updatedAt),
    run_started_at: iso(run.createdAt),
    jobs_url: `${url}/jobs`,
    logs_url: `${url}/logs`,
    check_suite_url: `${base}/repos/${run.owner}/${run.repo}/check-suites/${run.id + 1}`,
    artifacts_url: `${url}/artifacts`,
    cancel_url: `${url}/cancel`,
    rerun_url: `${url}/rerun`,
    previous_attempt_url: run.runAttempt > 1 ? `${url}/attempts/${run.runAttempt - 1}` : null,
    workflow_url: `${base}/repos/${run.owner}/${run.repo}/actions/workflows/161335`,
    head_commit: {
      id: HEAD_SHA,
      tree_id: "d23f6eedb1e1b9610bbc754ddb5197bfe7271223",
      message: "Emulated commit",
      timestamp: iso(run.createdAt),
      author: { name: "Octo Cat", email: "octocat@example.com" },
      committer: { name: "GitHub", email: "noreply@github.com" },
    },
    repository,
    head_repository: repository,
  };
}
