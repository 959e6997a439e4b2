/**
 * Turns a real `workflow_job` example into the delivery a test or the demo needs, changing only the fields that
 * matter, and signs it the way GitHub does. Runtime-neutral: used by Node scripts and by tests in workerd.
 */
import { sign } from "@octokit/webhooks-methods";

export type JobAction = "queued" | "waiting" | "in_progress" | "completed";

export interface JobOverrides {
  jobId?: number;
  runId?: number;
  labels?: string[];
  repository?: string;
  private?: boolean;
  /** The commit the job runs on (`workflow_job.head_sha`). */
  headSha?: string;
  /** Pads the JSON (with an extra field GitHub would not send, which we ignore) to exactly this many bytes. */
  padTo?: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function child(object: Json, key: string): Json {
  const value = object[key];
  if (!isObject(value)) throw new Error(`payload has no object ${key}`);
  return value;
}

/** Parses example JSON text into a fresh object. */
export function parseExample(text: string): Json {
  const value: unknown = JSON.parse(text);
  if (!isObject(value)) throw new Error("example is not an object");
  return value;
}

/** The example made ours by default: labels `self-hosted, modal`, a private repository. */
export function adaptWorkflowJob(exampleText: string, overrides: JobOverrides = {}): Json {
  const payload = parseExample(exampleText);
  const job = child(payload, "workflow_job");
  const repository = child(payload, "repository");
  const owner = child(repository, "owner");
  if (overrides.jobId !== undefined) job.id = overrides.jobId;
  if (overrides.runId !== undefined) job.run_id = overrides.runId;
  if (overrides.headSha !== undefined) job.head_sha = overrides.headSha;
  job.labels = overrides.labels ?? ["self-hosted", "modal"];
  repository.private = overrides.private ?? true;
  if (overrides.repository !== undefined) {
    const [login = "", name = ""] = overrides.repository.split("/");
    repository.full_name = overrides.repository;
    repository.name = name;
    owner.login = login;
  }
  if (overrides.padTo !== undefined) {
    const base = JSON.stringify({ ...payload, padding: "" });
    if (base.length > overrides.padTo) throw new Error("payload is already larger than padTo");
    payload.padding = "x".repeat(overrides.padTo - base.length);
  }
  return payload;
}

export interface SignedHeadersOptions {
  secret: string;
  event: string;
  deliveryId: string;
  contentType?: string;
}

export async function signedHeaders(
  body: string,
  options: SignedHeadersOptions,
): Promise<Record<string, string>> {
  return {
    "content-type": options.contentType ?? "application/json",
    "user-agent": "GitHub-Hookshot/actions-on-modal",
    "x-github-event": options.event,
    "x-github-delivery": options.deliveryId,
    "x-hub-signature-256": await sign(options.secret, body),
  };
}
