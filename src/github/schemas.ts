/**
 * The parts of GitHub's responses we rely on, parsed rather than trusted. Objects are not strict: GitHub adds
 * fields often, and a new field must not break dispatch. Enumerations that GitHub extends over time (job status,
 * runner status) are read as strings for the same reason.
 */
import * as z from "zod/mini";
import { badResponse } from "./errors.ts";

const RunnerLabelSchema = z.object({
  name: z.string(),
  type: z.optional(z.string()),
});

export const RunnerSchema = z.object({
  id: z.int(),
  name: z.string(),
  os: z.string(),
  /** `online` or `offline`. */
  status: z.string(),
  busy: z.boolean(),
  labels: z.array(RunnerLabelSchema),
  runner_group_id: z.optional(z.int()),
  ephemeral: z.optional(z.boolean()),
});
export type RunnerResponse = z.infer<typeof RunnerSchema>;

export const RunnerListSchema = z.object({
  total_count: z.int(),
  runners: z.array(RunnerSchema),
});

export const JitConfigSchema = z.object({
  runner: RunnerSchema,
  encoded_jit_config: z.string().check(z.minLength(1)),
});

export const JobSchema = z.object({
  id: z.int(),
  run_id: z.int(),
  run_attempt: z.optional(z.int()),
  name: z.string(),
  status: z.string(),
  conclusion: z.nullable(z.string()),
  labels: z.array(z.string()),
  runner_id: z.nullable(z.int()),
  runner_name: z.nullable(z.string()),
  runner_group_id: z.nullable(z.int()),
  runner_group_name: z.nullable(z.string()),
  created_at: z.string(),
  started_at: z.nullable(z.string()),
  completed_at: z.nullable(z.string()),
});

export const JobListSchema = z.object({
  total_count: z.int(),
  jobs: z.array(JobSchema),
});

const MinimalRepositorySchema = z.object({
  full_name: z.string(),
  private: z.boolean(),
  owner: z.object({ login: z.string(), type: z.string() }),
});

export const WorkflowRunSchema = z.object({
  id: z.int(),
  run_attempt: z.optional(z.int()),
  status: z.nullable(z.string()),
  repository: MinimalRepositorySchema,
});

export const WorkflowRunListSchema = z.object({
  total_count: z.int(),
  workflow_runs: z.array(WorkflowRunSchema),
});

export const InstallationSchema = z.object({ id: z.int() });

/** GitHub's `hook-delivery-item`. Ids are int64 and already past 2^32; JavaScript numbers hold them exactly. */
export const HookDeliverySchema = z.object({
  id: z.int(),
  guid: z.string(),
  delivered_at: z.string(),
  redelivery: z.boolean(),
  status: z.string(),
  status_code: z.int(),
  event: z.string(),
  action: z.nullable(z.string()),
  installation_id: z.nullable(z.int()),
  repository_id: z.nullable(z.int()),
});

export const HookDeliveryListSchema = z.array(HookDeliverySchema);

export const ReleaseSchema = z.object({
  tag_name: z.string(),
  name: z.nullable(z.string()),
  published_at: z.nullable(z.string()),
  draft: z.boolean(),
  prerelease: z.boolean(),
});

/** GitHub permission names and levels, e.g. `administration: write` (`read`, `write`, `admin`). */
const PermissionsSchema = z.record(z.string(), z.string());

export const InstallationTokenSchema = z.object({
  token: z.string().check(z.minLength(1)),
  expires_at: z.string(),
  // GitHub lists what the token may do; absent, it may do nothing we could prove.
  permissions: z._default(PermissionsSchema, {}),
});

/** GitHub's `integration`, as `GET /app` answers the App's own JWT. */
export const AppSchema = z.object({
  id: z.int(),
  slug: z.optional(z.string()),
  name: z.string(),
  html_url: z.string(),
  installations_count: z.optional(z.int()),
});

const RateLimitSchema = z.object({ limit: z.int(), remaining: z.int(), reset: z.int() });

/** `GET /rate_limit`: only the core budget is read. */
export const RateLimitOverviewSchema = z.object({ resources: z.object({ core: RateLimitSchema }) });

/** GitHub's error body (`basic-error` / `validation-error` in its OpenAPI description); every field optional. */
export const ErrorBodySchema = z.object({
  message: z.optional(z.string()),
  documentation_url: z.optional(z.string()),
});

/** The response body as the schema says, or a `bad_response` error. */
export function parseResponse<T>(
  schema: { safeParse(data: unknown): { success: true; data: T } | { success: false } },
  operation: string,
  data: unknown,
): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw badResponse(operation);
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------------------------
// What the client hands out: camelCase, only what callers use.

export interface Runner {
  id: number;
  name: string;
  os: string;
  /** `online` or `offline`. */
  status: string;
  busy: boolean;
  labels: string[];
  runnerGroupId: number | undefined;
  ephemeral: boolean | undefined;
}

export function toRunner(runner: RunnerResponse): Runner {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.os,
    status: runner.status,
    busy: runner.busy,
    labels: runner.labels.map((label) => label.name),
    runnerGroupId: runner.runner_group_id,
    ephemeral: runner.ephemeral,
  };
}

export interface Job {
  id: number;
  runId: number;
  runAttempt: number | undefined;
  name: string;
  /** `queued`, `in_progress`, `completed`, `waiting`, `requested` or `pending` today. */
  status: string;
  /** Set once completed: `success`, `failure`, `cancelled`, `skipped`, … */
  conclusion: string | null;
  labels: string[];
  runnerId: number | null;
  runnerName: string | null;
  runnerGroupId: number | null;
  runnerGroupName: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export function toJob(job: z.infer<typeof JobSchema>): Job {
  return {
    id: job.id,
    runId: job.run_id,
    runAttempt: job.run_attempt,
    name: job.name,
    status: job.status,
    conclusion: job.conclusion,
    labels: job.labels,
    runnerId: job.runner_id,
    runnerName: job.runner_name,
    runnerGroupId: job.runner_group_id,
    runnerGroupName: job.runner_group_name,
    createdAt: job.created_at,
    startedAt: job.started_at,
    completedAt: job.completed_at,
  };
}

export interface WorkflowRun {
  id: number;
  runAttempt: number | undefined;
  /** `queued`, `in_progress`, `completed`, `waiting`, `requested` or `pending` today; null is allowed by GitHub. */
  status: string | null;
  repository: { fullName: string; private: boolean; ownerLogin: string; ownerType: string };
}

export function toWorkflowRun(run: z.infer<typeof WorkflowRunSchema>): WorkflowRun {
  return {
    id: run.id,
    runAttempt: run.run_attempt,
    status: run.status,
    repository: {
      fullName: run.repository.full_name,
      private: run.repository.private,
      ownerLogin: run.repository.owner.login,
      ownerType: run.repository.owner.type,
    },
  };
}

export interface HookDelivery {
  id: number;
  /** The event's GUID (`X-GitHub-Delivery`), shared by its redeliveries. */
  guid: string;
  deliveredAt: string;
  redelivery: boolean;
  /** GitHub's words for the outcome: `OK`, `Invalid HTTP Response: 503`, `failed to connect`, … */
  status: string;
  /** The receiver's HTTP status; 0 when nothing answered. */
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
}

export function toHookDelivery(delivery: z.infer<typeof HookDeliverySchema>): HookDelivery {
  return {
    id: delivery.id,
    guid: delivery.guid,
    deliveredAt: delivery.delivered_at,
    redelivery: delivery.redelivery,
    status: delivery.status,
    statusCode: delivery.status_code,
    event: delivery.event,
    action: delivery.action,
    installationId: delivery.installation_id,
    repositoryId: delivery.repository_id,
  };
}

export interface RunnerRelease {
  /** Without the leading `v`: `2.334.0`. */
  version: string;
  tagName: string;
  publishedAt: string | null;
}
