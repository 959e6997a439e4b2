/**
 * `npm run bench:dispatch`: 1,000 queued deliveries (and a redelivery of every tenth) pushed through the Worker's
 * production bundle in workerd — local Queue, Durable Objects — against zero-latency emulators of GitHub and Modal.
 * Prints how long until every sandbox was requested, duplicates (must be 0), upstream calls per job, and the
 * latency from the webhook's 202 to the sandbox request.
 *
 *   npm run bench:dispatch -- [--jobs 1000] [--concurrency 32]
 */
import { parseArgs } from "node:util";
import { DEMO_CREDENTIALS, startEmulators } from "./lib/emulators.ts";
import { startLocalWorker } from "./lib/local-worker.ts";
import { adaptWorkflowJob, signedHeaders } from "./lib/payloads.ts";
import { loadWebhookExamples } from "./lib/webhook-examples.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "32" },
    timeout: { type: "string", default: "300" },
  },
});
const JOBS = Number(values.jobs);
const SECRET = "bench-dispatch-secret-0123456789";
const REPOSITORIES = ["bench/api", "bench/web", "other/app", "fourth/svc"];

const example = loadWebhookExamples()["workflow_job.queued"];
if (example === undefined) throw new Error("no queued example payload");

const emulators = await startEmulators({ namespace: "bench", repositories: REPOSITORIES });
const worker = await startLocalWorker({
  vars: {
    WEBHOOK_SECRET: SECRET,
    GITHUB_TOKEN: DEMO_CREDENTIALS.githubToken,
    GITHUB_API_URL: emulators.github.url,
    ...emulators.modalVars("direct"),
    // Nothing completes jobs here, so a runner cap would park most of the burst: measure dispatch without one.
    MAX_RUNNERS_PER_OWNER: "unlimited",
  },
});

const accepted = new Map<number, number>();
const firstJob = 7_000_000_000;
const deliveries: { jobId: number; deliveryId: string }[] = [];
for (let index = 0; index < JOBS; index++) {
  const delivery = { jobId: firstJob + index, deliveryId: crypto.randomUUID() };
  deliveries.push(delivery);
  if (index % 10 === 0) deliveries.push({ ...delivery }); // GitHub redelivers: same delivery id, same job
}

const start = performance.now();
const startedAt = Date.now();
let next = 0;
let failures = 0;
async function sender(): Promise<void> {
  while (next < deliveries.length) {
    const delivery = deliveries[next++];
    if (delivery === undefined) return;
    const repository = REPOSITORIES[delivery.jobId % REPOSITORIES.length] ?? "bench/api";
    const body = JSON.stringify(adaptWorkflowJob(example ?? "", { jobId: delivery.jobId, repository }));
    const response = await fetch(`${worker.url}/webhook`, {
      method: "POST",
      headers: await signedHeaders(body, {
        secret: SECRET,
        event: "workflow_job",
        deliveryId: delivery.deliveryId,
      }),
      body,
    });
    await response.arrayBuffer();
    if (response.status !== 202) failures += 1;
    else if (!accepted.has(delivery.jobId)) accepted.set(delivery.jobId, Date.now());
  }
}
await Promise.all(Array.from({ length: Number(values.concurrency) }, sender));
const sentSeconds = (performance.now() - start) / 1000;

type Sandboxes = Awaited<ReturnType<typeof emulators.modal.sandboxes>>;
let sandboxes: Sandboxes = [];
const deadline = Date.now() + Number(values.timeout) * 1000;
for (;;) {
  sandboxes = await emulators.modal.sandboxes();
  if (new Set(sandboxes.map((sandbox) => sandbox.name)).size >= JOBS || Date.now() > deadline) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const lastRequested = Math.max(...sandboxes.map((sandbox) => sandbox.createdAt * 1000));
await new Promise((resolve) => setTimeout(resolve, 2000)); // late duplicates would show up now
sandboxes = await emulators.modal.sandboxes();

const perName = new Map<string, number>();
for (const sandbox of sandboxes) perName.set(sandbox.name ?? "", (perName.get(sandbox.name ?? "") ?? 0) + 1);
const duplicates = [...perName.values()].reduce((sum, count) => sum + count - 1, 0);
const githubCalls = (await emulators.github.requests()).length;
const modalCalls = (await emulators.modal.calls()).length;
const latencies = sandboxes
  .map((sandbox) => {
    const jobId = Number(sandbox.tags["job-id"]);
    const at = accepted.get(jobId);
    return at === undefined ? Number.NaN : sandbox.createdAt * 1000 - at;
  })
  .filter((value) => Number.isFinite(value))
  .sort((a, b) => a - b);
const percentile = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;

await worker.stop();
await emulators.close();

const row = (label: string, value: string) => console.log(`  ${label.padEnd(46)} ${value}`);
console.log(
  `\nbench:dispatch — ${JOBS} jobs (+${deliveries.length - JOBS} redeliveries), ${values.concurrency} senders, zero-latency emulators, bundle ${(worker.bundleBytes / 1024).toFixed(0)} KiB\n`,
);
row("deliveries sent (s)", sentSeconds.toFixed(2));
row("non-202 answers", String(failures));
row("sandboxes requested", `${perName.size} of ${JOBS}`);
row("seconds until all sandboxes were requested", ((lastRequested - startedAt) / 1000).toFixed(2));
row("duplicate sandboxes (must be 0)", String(duplicates));
row("GitHub calls per job", (githubCalls / JOBS).toFixed(3));
row("Modal calls per job", (modalCalls / JOBS).toFixed(3));
row("accepted → sandbox requested, p50 (ms)", percentile(50).toFixed(0));
row("accepted → sandbox requested, p95 (ms)", percentile(95).toFixed(0));
process.exitCode = duplicates === 0 && perName.size === JOBS ? 0 : 1;
