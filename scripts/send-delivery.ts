/**
 * Sends one signed `workflow_job` delivery — a real example payload from @octokit/webhooks-examples — to a running
 * Worker, as GitHub would. `npm run webhook:send -- --help` prints the usage below.
 */

import { loadWebhookExamples } from "../test/node/support/webhook-examples.ts";
import { adaptWorkflowJob, type JobAction, signedHeaders } from "../test/support/payloads.ts";
import { exitWithUsageError, parseCommandLine } from "./lib/cli.ts";

const ACTIONS: readonly JobAction[] = ["queued", "waiting", "in_progress", "completed"];

const USAGE = `Usage: npm run webhook:send -- [options]

Signs a real workflow_job example payload with the webhook secret and POSTs it, as GitHub would.

Options:
  --url <url>            where to send it (default http://127.0.0.1:8787/webhook)
  --secret <secret>      the webhook secret (default: the WEBHOOK_SECRET environment variable)
  --action <action>      ${ACTIONS.join(" | ")} (default queued)
  --repo <owner/name>    the job's repository (default acme/api)
  --labels <a,b>         the job's labels (default self-hosted,modal)
  --public               mark the repository public (refused unless ALLOW_PUBLIC_REPOS=true)
  --job-id <n>           the job id (default: the current time in ms)
  --delivery-id <id>     the X-GitHub-Delivery header (default: a random UUID)
  -h, --help             print this help`;

const values = parseCommandLine(
  {
    url: { type: "string", default: "http://127.0.0.1:8787/webhook" },
    secret: { type: "string" },
    action: { type: "string", default: "queued" },
    repo: { type: "string", default: "acme/api" },
    labels: { type: "string", default: "self-hosted,modal" },
    public: { type: "boolean", default: false },
    "job-id": { type: "string" },
    "delivery-id": { type: "string" },
  },
  USAGE,
);

const action = ACTIONS.find((known) => known === values.action);
if (action === undefined) exitWithUsageError(`--action must be one of ${ACTIONS.join(", ")}`, USAGE);
const secret = values.secret ?? process.env.WEBHOOK_SECRET ?? "";
if (secret === "") exitWithUsageError("--secret or WEBHOOK_SECRET is required", USAGE);
const jobId = values["job-id"] === undefined ? Date.now() : Number(values["job-id"]);
if (!Number.isSafeInteger(jobId) || jobId <= 0)
  exitWithUsageError("--job-id must be a positive integer", USAGE);
let url: URL;
try {
  url = new URL(values.url);
} catch {
  exitWithUsageError(`--url is not a URL: ${values.url}`, USAGE);
}

const example = loadWebhookExamples()[`workflow_job.${action}`];
if (example === undefined) throw new Error(`no example for ${action}`);
const payload = adaptWorkflowJob(example, {
  jobId,
  labels: values.labels.split(",").map((label) => label.trim()),
  repository: values.repo,
  private: !values.public,
});
const body = JSON.stringify(payload);
const deliveryId = values["delivery-id"] ?? crypto.randomUUID();
try {
  const response = await fetch(url, {
    method: "POST",
    headers: await signedHeaders(body, { secret, event: "workflow_job", deliveryId }),
    body,
  });
  console.log(`${response.status} ${await response.text()} (delivery ${deliveryId})`);
  process.exitCode = response.ok ? 0 : 1;
} catch (error) {
  // A Worker that is not running is the usual cause: say so in one line.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
  console.error(`could not reach ${url.href}: ${cause}`);
  process.exitCode = 1;
}
