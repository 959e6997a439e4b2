/**
 * A deployment with a history, for looking at its status page: the emulators and the Worker started as `npm start`
 * starts them (with a STATUS_TOKEN), signed deliveries of real payloads, and GitHub's side played through its
 * emulator's control API — runners coming online and taking their jobs, hooks sending `in_progress` and
 * `completed` — so that jobs reach every state the page shows.
 */
import * as z from "zod/mini";
import { adaptWorkflowJob, signedHeaders } from "../../support/payloads.ts";
import { DEMO_CREDENTIALS, startEmulators } from "./emulators.ts";
import { loadWebhookExamples } from "./webhook-examples.ts";
import { startWranglerDev } from "./wrangler-dev.ts";

export const DEMO_STATUS_TOKEN = "demo-status-token-0123456789abcdef";
const SECRET = "demo-webhook-secret-0123456789";
const LABELS = ["self-hosted", "modal"];

const JobStateSchema = z.object({
  jobId: z.number(),
  state: z.string(),
  waitReason: z.nullable(z.string()),
});
const ReportSchema = z.object({
  owners: z.array(
    z.object({
      inFlight: z.array(JobStateSchema),
      failures: z.array(JobStateSchema),
      ended: z.array(JobStateSchema),
    }),
  ),
});

export interface DemoJobs {
  completed: number;
  running: number;
  started: number;
  cancelled: number;
  failed: number;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startStatusDemo(options: { onLine?: (line: string) => void } = {}) {
  const namespace = `status-browser-${Date.now()}`;
  const emulators = await startEmulators({ namespace, repositories: ["acme/api", "acme/web"] });
  const worker = await startWranglerDev({
    vars: {
      WEBHOOK_SECRET: SECRET,
      GITHUB_TOKEN: DEMO_CREDENTIALS.githubToken,
      GITHUB_API_URL: emulators.github.url,
      ...emulators.modalVars("direct"),
      ALLOWED_REPOS: "acme/*",
      STATUS_TOKEN: DEMO_STATUS_TOKEN,
    },
    ...(options.onLine === undefined ? {} : { onLine: options.onLine }),
  });
  const stop = async () => {
    await worker.stop();
    await emulators.close();
  };
  try {
    const jobs = await play(worker.url, emulators);
    return { url: worker.url, jobs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function play(url: string, emulators: Awaited<ReturnType<typeof startEmulators>>): Promise<DemoJobs> {
  const { github, modal } = emulators;
  const example = loadWebhookExamples()["workflow_job.queued"];
  if (example === undefined) throw new Error("no queued example payload");
  const base = Date.now();
  const jobs: DemoJobs = {
    completed: base,
    running: base + 1,
    started: base + 2,
    cancelled: base + 3,
    failed: base + 4,
  };
  const repositoryOf = (jobId: number) => (jobId === jobs.started ? "acme/web" : "acme/api");
  // GitHub knows the jobs (queued) before anyone listens, so that only our own deliveries announce them.
  await github.seed({
    jobs: Object.values(jobs).map((id) => ({
      id,
      repository: repositoryOf(id),
      status: "queued" as const,
      labels: LABELS,
      runId: base,
    })),
  });
  await modal.fail({
    method: "SandboxCreateV2",
    grpcCode: 3,
    grpcMessage: "image ghcr.io/actions/actions-runner:2.334.0 could not be pulled",
    count: 1,
    match: `modal-${jobs.failed}-1`,
  });
  for (const jobId of Object.values(jobs)) {
    const body = JSON.stringify(
      adaptWorkflowJob(example, { jobId, labels: LABELS, repository: repositoryOf(jobId) }),
    );
    const response = await fetch(`${url}/webhook`, {
      method: "POST",
      headers: await signedHeaders(body, {
        secret: SECRET,
        event: "workflow_job",
        deliveryId: crypto.randomUUID(),
      }),
      body,
    });
    if (response.status !== 202) throw new Error(`the webhook answered ${response.status}`);
  }
  const runnerOf = (jobId: number) =>
    until(`the runner of job ${jobId}`, async () =>
      (await github.runners()).find((runner) => runner.name === `modal-${jobId}-1`),
    );
  const [completed, running] = [await runnerOf(jobs.completed), await runnerOf(jobs.running)];
  await runnerOf(jobs.started);
  await runnerOf(jobs.cancelled);
  // From here on GitHub tells the Worker what happens to the jobs, through a hook per repository.
  for (const repository of ["acme/api", "acme/web"]) {
    await github.createHook({ kind: "repository", repository, url: `${url}/webhook`, secret: SECRET });
  }
  await github.settings({ jobPayloadTemplate: JSON.parse(example) });
  await github.updateRunner(completed.id, { busy: true, jobId: jobs.completed });
  await github.updateRunner(running.id, { busy: true, jobId: jobs.running });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await github.updateRunner(completed.id, { complete: { conclusion: "success" } });
  await github.cancelJob(jobs.cancelled);
  await until("every job in its state", async () => {
    const response = await fetch(`${url}/api/status`, {
      headers: { authorization: `Bearer ${DEMO_STATUS_TOKEN}` },
    });
    const report = ReportSchema.parse(await response.json());
    const states = new Map(
      report.owners
        .flatMap((owner) => [...owner.inFlight, ...owner.failures, ...owner.ended])
        .map((job) => [job.jobId, job.state]),
    );
    const want = [
      [jobs.completed, "finished"],
      [jobs.running, "running"],
      [jobs.started, "started"],
      [jobs.cancelled, "cancelled"],
      [jobs.failed, "failed"],
    ] as const;
    return want.every(([jobId, state]) => states.get(jobId) === state) ? true : undefined;
  });
  return jobs;
}
