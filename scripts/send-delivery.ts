/**
 * Sends one signed `workflow_job` delivery — a real example payload from @octokit/webhooks-examples — to a running
 * Worker, as GitHub would. Usage:
 *
 *   npm run webhook:send -- --url http://127.0.0.1:8787/webhook --secret <WEBHOOK_SECRET> \
 *     [--action queued] [--repo acme/api] [--labels self-hosted,modal] [--public] [--job-id 123]
 *
 * The secret may also come from the WEBHOOK_SECRET environment variable.
 */
import { parseArgs } from "node:util";
import { adaptWorkflowJob, type JobAction, signedHeaders } from "./lib/payloads.ts";
import { loadWebhookExamples } from "./lib/webhook-examples.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8787/webhook" },
    secret: { type: "string", default: process.env.WEBHOOK_SECRET },
    action: { type: "string", default: "queued" },
    repo: { type: "string", default: "acme/api" },
    labels: { type: "string", default: "self-hosted,modal" },
    public: { type: "boolean", default: false },
    "job-id": { type: "string" },
    "delivery-id": { type: "string" },
  },
});

const actions: readonly JobAction[] = ["queued", "waiting", "in_progress", "completed"];
const action = actions.find((known) => known === values.action);
if (action === undefined) throw new Error(`--action must be one of ${actions.join(", ")}`);
if (values.secret === undefined || values.secret === "")
  throw new Error("--secret or WEBHOOK_SECRET is required");

const example = loadWebhookExamples()[`workflow_job.${action}`];
if (example === undefined) throw new Error(`no example for ${action}`);
const payload = adaptWorkflowJob(example, {
  jobId: values["job-id"] === undefined ? Date.now() : Number(values["job-id"]),
  labels: values.labels.split(",").map((label) => label.trim()),
  repository: values.repo,
  private: !values.public,
});
const body = JSON.stringify(payload);
const deliveryId = values["delivery-id"] ?? crypto.randomUUID();
const response = await fetch(values.url, {
  method: "POST",
  headers: await signedHeaders(body, { secret: values.secret, event: "workflow_job", deliveryId }),
  body,
});
console.log(`${response.status} ${await response.text()} (delivery ${deliveryId})`);
process.exitCode = response.ok ? 0 : 1;
