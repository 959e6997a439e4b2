/**
 * Fixtures: real payloads from @octokit/webhooks-examples (loaded in global setup), changed only in the fields a
 * test is about, and signed with @octokit/webhooks-methods — the signer GitHub's own SDK uses.
 */
import { sign } from "@octokit/webhooks-methods";
import { inject } from "vitest";
import { adaptWorkflowJob, type JobAction, type JobOverrides, parseExample } from "./payloads.ts";

export const TEST_SECRET = "test-webhook-secret-0123456789";

function exampleText(key: string): string {
  const text = inject("webhookExamples")[key];
  if (text === undefined) throw new Error(`no webhook example ${key}`);
  return text;
}

/** A fresh copy of a real example payload, e.g. `example("ping")`. */
export function example(key: string): Record<string, unknown> {
  return parseExample(exampleText(key));
}

let nextJobId = 9_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;

/** A unique job id per call, so tests sharing a queue or emulator never see each other's jobs. */
export function uniqueJobId(): number {
  nextJobId += 1;
  return nextJobId;
}

/** A real `workflow_job` example made ours (labels `self-hosted, modal`, private repo) with a unique job id. */
export function workflowJob(action: JobAction, overrides: JobOverrides = {}): Record<string, unknown> {
  return adaptWorkflowJob(exampleText(`workflow_job.${action}`), { jobId: uniqueJobId(), ...overrides });
}

export interface DeliveryOptions {
  event?: string | null;
  deliveryId?: string | null;
  secret?: string;
  /** Replaces the computed signature header; `null` leaves the header out. */
  signature?: string | null | undefined;
  contentType?: string;
  url?: string;
}

/** A webhook request as GitHub sends it, with the body signed over exactly the bytes sent. */
export async function delivery(body: string, options: DeliveryOptions = {}): Promise<Request> {
  const headers = new Headers({
    "content-type": options.contentType ?? "application/json",
    "user-agent": "GitHub-Hookshot/test",
  });
  const event = options.event === undefined ? "workflow_job" : options.event;
  const deliveryId = options.deliveryId === undefined ? crypto.randomUUID() : options.deliveryId;
  if (event !== null) headers.set("x-github-event", event);
  if (deliveryId !== null) headers.set("x-github-delivery", deliveryId);
  const signature =
    options.signature === undefined ? await sign(options.secret ?? TEST_SECRET, body) : options.signature;
  if (signature !== null) headers.set("x-hub-signature-256", signature);
  return new Request(options.url ?? "https://hooks.example.com/webhook", { method: "POST", headers, body });
}

export function deliveryIdOf(request: Request): string {
  return request.headers.get("x-github-delivery") ?? "";
}
