/**
 * What GitHub does with a queued job, when a namespace asks for it (`settings.assignJobs`): any online, idle
 * runner of the job's scope whose labels include all of the job's labels (compared without case) takes the
 * oldest such job, repository runners before organization runners. The runner is not bound to the job it was
 * registered for, which is exactly what autoscalers get wrong.
 *
 * Whether or not jobs are routed, each move of a job sends the `workflow_job` deliveries GitHub would to the
 * hooks that see it: `queued`, `in_progress` (with the runner), `completed` (a cancelled queued job has no
 * runner). Payloads start from `settings.jobPayloadTemplate`, with `action`, `workflow_job`, `repository`,
 * `organization` and `installation` filled in.
 */
import { jobJson } from "./bodies.ts";
import { deliver, hooksFor } from "./hooks.ts";
import { accountJson, minimalRepositoryJson } from "./repository-bodies.ts";
import {
  accountOf,
  type JobRecord,
  type Namespace,
  nowOf,
  type RunnerRecord,
  repositoryOf,
} from "./state.ts";

export type JobAction = "queued" | "waiting" | "in_progress" | "completed";

/** Deliveries a control call started; it awaits them before answering so tests see their outcome. */
export type Outbox = Promise<unknown>[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function payloadFor(
  ns: Namespace,
  job: JobRecord,
  action: JobAction,
  installationId: number | null,
  base: string,
): Record<string, unknown> {
  const template = ns.settings.jobPayloadTemplate ?? {};
  const part = (key: string) => {
    const value = template[key];
    return isRecord(value) ? value : {};
  };
  const repository = repositoryOf(ns, job.owner, job.repo);
  const owner = accountOf(ns, job.owner);
  const { organization: _organization, installation: _installation, ...rest } = template;
  return {
    ...rest,
    action,
    workflow_job: { ...part("workflow_job"), ...jobJson(job, base) },
    repository: { ...part("repository"), ...minimalRepositoryJson(ns, repository, base) },
    // Only organizations appear as `organization`; only App hooks get `installation`.
    ...(owner.type === "Organization"
      ? { organization: { ...part("organization"), ...accountJson(ns, job.owner, base) } }
      : {}),
    ...(installationId === null ? {} : { installation: { ...part("installation"), id: installationId } }),
  };
}

/** Sends the `workflow_job` delivery of one move of `job` to every hook that sees it (one GUID for all). */
export function announce(
  ns: Namespace,
  job: JobRecord,
  action: JobAction,
  base: string,
  outbox: Outbox,
): void {
  const targets = hooksFor(ns, job.owner, job.repo);
  if (targets.length === 0) return;
  const guid = crypto.randomUUID();
  const repositoryId = repositoryOf(ns, job.owner, job.repo).id;
  for (const { hook, installationId } of targets) {
    outbox.push(
      deliver(ns, hook, {
        event: "workflow_job",
        action,
        payload: payloadFor(ns, job, action, installationId, base),
        guid,
        installationId,
        repositoryId,
      }),
    );
  }
}

export function startJob(
  ns: Namespace,
  job: JobRecord,
  runner: RunnerRecord,
  base: string,
  outbox: Outbox,
): void {
  runner.status = "online";
  runner.busy = true;
  runner.jobId = job.id;
  Object.assign(job, {
    status: "in_progress",
    runnerId: runner.id,
    runnerName: runner.name,
    startedAt: nowOf(ns),
  });
  announce(ns, job, "in_progress", base, outbox);
}

/** The job ends with `conclusion`; its (ephemeral) runner unregisters, as runners do after their one job. */
export function finishJob(
  ns: Namespace,
  job: JobRecord,
  conclusion: string,
  base: string,
  outbox: Outbox,
): void {
  Object.assign(job, { status: "completed", conclusion, completedAt: nowOf(ns) });
  if (job.runnerId !== null) ns.runners.delete(job.runnerId);
  announce(ns, job, "completed", base, outbox);
}

function fits(runner: RunnerRecord, job: JobRecord): boolean {
  if (runner.status !== "online" || runner.busy || runner.jobId !== null) return false;
  const repository = `repo:${job.owner}/${job.repo}`.toLowerCase();
  const organization = `org:${job.owner}`.toLowerCase();
  if (runner.scope !== repository && runner.scope !== organization) return false;
  const labels = new Set(runner.labels.map((label) => label.toLowerCase()));
  return job.labels.every((label) => labels.has(label.toLowerCase()));
}

/** Hands queued jobs to idle runners, oldest job first; does nothing unless the namespace routes jobs. */
export function routeJobs(ns: Namespace, base: string, outbox: Outbox): void {
  if (!ns.settings.assignJobs) return;
  const queued = [...ns.jobs.values()]
    .filter((job) => job.status === "queued")
    .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  for (const job of queued) {
    const candidates = [...ns.runners.values()]
      .filter((runner) => fits(runner, job))
      // Repository runners first, then the organization's; the longest-registered first within each.
      .sort((a, b) => Number(a.scope.startsWith("org:")) - Number(b.scope.startsWith("org:")) || a.id - b.id);
    const [runner] = candidates;
    if (runner !== undefined) startJob(ns, job, runner, base, outbox);
  }
}

export type CancelResult = "cancelled" | "not_found" | "already_completed";

/** A queued job completes as cancelled without a runner; a running one also loses its runner. */
export function cancelJob(ns: Namespace, jobId: number, base: string, outbox: Outbox): CancelResult {
  const job = ns.jobs.get(jobId);
  if (job === undefined) return "not_found";
  if (job.status === "completed") return "already_completed";
  finishJob(ns, job, "cancelled", base, outbox);
  return "cancelled";
}
