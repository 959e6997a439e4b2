/**
 * The queue message contract between the webhook and the consumer. Versioned: a consumer that meets a version it
 * does not know logs and acknowledges the message rather than retrying it forever.
 */
import * as z from "zod/mini";
import type { WorkflowJobPayload } from "./workflow-job.ts";

export const JOB_MESSAGE_KINDS = ["job.queued", "job.waiting", "job.in_progress", "job.completed"] as const;
export type JobMessageKind = (typeof JOB_MESSAGE_KINDS)[number];

const Id = z.number().check(z.int(), z.nonnegative());

export const QueuedJobSchema = z.object({
  id: Id,
  runId: Id,
  runAttempt: Id,
  labels: z.array(z.string()),
  /** `owner/repo`. */
  repository: z.string().check(z.regex(/^[^/\s]+\/[^/\s]+$/)),
  owner: z.string().check(z.minLength(1)),
  /** `Organization` or `User`, as GitHub reports it. */
  ownerType: z.string(),
  installationId: z.optional(Id),
  private: z.boolean(),
  /** The job's name and commit: what a refused job's check run is posted on. */
  name: z.optional(z.nullable(z.string())),
  headSha: z.optional(z.string()),
  /** Present on lifecycle messages: what GitHub said about the job and the runner that took it. */
  conclusion: z.optional(z.nullable(z.string())),
  runnerId: z.optional(z.nullable(Id)),
  runnerName: z.optional(z.nullable(z.string())),
});
export type QueuedJob = z.infer<typeof QueuedJobSchema>;

/** What a message that waited in the ledger carries back to the consumer. */
export const MessageHintsSchema = z.object({
  /** The JIT pacing slot the job holds (src/ledger/pacing.ts), honoured once when it comes back. */
  pacing: z.optional(z.object({ slot: z.number(), generation: z.number(), probe: z.boolean() })),
  /** GitHub refused the PAT once already; the next refusal fails the job. */
  unauthenticatedRechecked: z.optional(z.boolean()),
  /** Sent again by the ledger (a wake, a resend): unlike GitHub's Redeliver, never a retry of a failed job. */
  fromLedger: z.optional(z.boolean()),
});
export type MessageHints = z.infer<typeof MessageHintsSchema>;

export const JobMessageSchema = z.object({
  v: z.literal(1),
  kind: z.enum(JOB_MESSAGE_KINDS),
  /** GitHub's `X-GitHub-Delivery`; a redelivery keeps it, a new `queued` event (after `waiting`) does not. */
  deliveryId: z.string().check(z.minLength(1)),
  /** When the webhook accepted the delivery, in milliseconds since the epoch. */
  receivedAt: z.number(),
  job: QueuedJobSchema,
  hints: z.optional(MessageHintsSchema),
});
export type JobMessage = z.infer<typeof JobMessageSchema>;

export function messageKind(action: string): JobMessageKind | undefined {
  const kind = `job.${action}`;
  return JOB_MESSAGE_KINDS.find((known) => known === kind);
}

export function toJobMessage(
  payload: WorkflowJobPayload,
  kind: JobMessageKind,
  deliveryId: string,
  receivedAt: number,
): JobMessage {
  const { workflow_job: job, repository } = payload;
  const message: JobMessage = {
    v: 1,
    kind,
    deliveryId,
    receivedAt,
    job: {
      id: job.id,
      runId: job.run_id,
      runAttempt: job.run_attempt,
      labels: job.labels,
      repository: repository.full_name,
      owner: repository.owner.login,
      ownerType: repository.owner.type,
      installationId: payload.installation?.id,
      private: repository.private,
    },
  };
  if (job.name !== undefined) message.job.name = job.name;
  if (job.head_sha !== undefined) message.job.headSha = job.head_sha;
  if (kind !== "job.queued") {
    message.job.conclusion = job.conclusion ?? null;
    message.job.runnerId = job.runner_id ?? null;
    message.job.runnerName = job.runner_name ?? null;
  }
  return message;
}
