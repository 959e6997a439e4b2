/**
 * The part of a `workflow_job` webhook payload we use. Unknown fields are tolerated (GitHub adds fields freely);
 * the ones we read are checked, so a signed but malformed payload is refused instead of half-handled.
 */
import * as z from "zod/mini";

export const WORKFLOW_JOB_ACTIONS = ["queued", "waiting", "in_progress", "completed"] as const;

const Id = z.number().check(z.int(), z.nonnegative());

export const WorkflowJobPayloadSchema = z.object({
  action: z.string(),
  workflow_job: z.object({
    id: Id,
    run_id: Id,
    run_attempt: z._default(Id, 1),
    name: z.optional(z.nullable(z.string())),
    head_sha: z.optional(z.string()),
    labels: z.array(z.string()),
    status: z.optional(z.nullable(z.string())),
    conclusion: z.optional(z.nullable(z.string())),
    runner_id: z.optional(z.nullable(Id)),
    runner_name: z.optional(z.nullable(z.string())),
  }),
  repository: z.object({
    full_name: z.string().check(z.regex(/^[^/\s]+\/[^/\s]+$/)),
    private: z.boolean(),
    owner: z.object({
      login: z.string().check(z.minLength(1)),
      type: z.string(),
    }),
  }),
  installation: z.optional(z.object({ id: Id })),
});

export type WorkflowJobPayload = z.infer<typeof WorkflowJobPayloadSchema>;
