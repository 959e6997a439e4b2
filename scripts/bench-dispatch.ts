/**
 * `npm run bench:dispatch`: 1,000 queued deliveries (and a redelivery of every tenth) pushed through the Worker's
 * production bundle in workerd — local Queue, Durable Objects — against zero-latency emulators of GitHub and Modal.
 * Prints how long until every sandbox was requested, duplicates (must be 0), upstream calls per job, and the
 * latency from the webhook's 202 to the sandbox request.
 *
 * With `--rate-limit 80/60s` the GitHub emulator refuses the JIT registration over 80 in any 60 s (GitHub's 403 with
 * `retry-after`), and the bench also prints the 403s drawn, the calls made into an announced limit (must be 0), how
 * close the time to the last sandbox came to the limit's own floor, and the jobs dead-lettered (must be 0).
 */
import { appendFileSync } from "node:fs";
import { DEMO_CREDENTIALS, startEmulators } from "../test/node/support/emulators.ts";
import { loadWebhookExamples } from "../test/node/support/webhook-examples.ts";
import { adaptWorkflowJob, signedHeaders } from "../test/support/payloads.ts";
import { exitWithUsageError, parseCommandLine, UsageError } from "./lib/cli.ts";
import { startLocalWorker } from "./lib/local-worker.ts";
import {
  defaultJitBurst,
  defaultJitRatePerHour,
  floorSeconds,
  hourlyRate,
  judge,
  parseRateLimit,
  type RateLimitSpec,
  refusalsAllowed,
  timeoutSeconds,
} from "./lib/rate-limit-bench.ts";
import { ledgerFigures, limitFigures } from "./lib/rate-limit-figures.ts";

const USAGE = `Usage: npm run bench:dispatch -- [options]

Queued deliveries through the Worker's production bundle against zero-latency GitHub and Modal emulators.

Options:
  --jobs <n>                 jobs to queue (default 1000); every tenth is delivered twice
  --concurrency <n>          webhook senders (default 32)
  --rate-limit <N/Ws>        emulate GitHub's secondary limit: N JIT registrations per credential in any W seconds
                             (retry-after W), and judge the Worker against it (exit 1 if it misbehaves)
  --jit-rate-per-hour <n>    JIT_RATE_PER_HOUR (default: 1000000, no pace, to measure dispatch itself — the
                             Worker's own 420 would take 2.4 h for 1,000 jobs by design; with --rate-limit, twice
                             the limit's hourly rate, so that (with the burst below) the pace never holds jobs back)
  --jit-burst <n>            JIT_BURST (default: 10000, no pace; with --rate-limit, three quarters of the limit,
                             as 60 is of GitHub's 80)
  --log <file>               append the Worker's log lines to a file
  --timeout <s>              how long to wait for every sandbox (default 300; with --rate-limit, twice the
                             limit's floor + 120)
  -h, --help                 print this help`;

const values = parseCommandLine(
  {
    jobs: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "32" },
    timeout: { type: "string" },
    "rate-limit": { type: "string" },
    "jit-rate-per-hour": { type: "string" },
    "jit-burst": { type: "string" },
    log: { type: "string" },
  },
  USAGE,
);

function integerOption(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > max)
    exitWithUsageError(`--${name} must be an integer from 1 to ${max}`, USAGE);
  return value;
}

const JOBS = integerOption("jobs", values.jobs, 1_000_000) ?? 1000;
const CONCURRENCY = integerOption("concurrency", values.concurrency, 10_000) ?? 32;
let rateLimit: RateLimitSpec | undefined;
try {
  rateLimit = values["rate-limit"] === undefined ? undefined : parseRateLimit(values["rate-limit"]);
} catch (error) {
  if (error instanceof UsageError) exitWithUsageError(error.message, USAGE);
  throw error;
}
// Without a limit the bench measures dispatch, not the pace: the variables' upper bounds (src/config/dispatch.ts).
const NO_PACE = { jitRatePerHour: 1_000_000, jitBurst: 10_000 };
const jitRatePerHour =
  integerOption("jit-rate-per-hour", values["jit-rate-per-hour"], 1_000_000) ??
  (rateLimit === undefined ? NO_PACE.jitRatePerHour : defaultJitRatePerHour(rateLimit));
const jitBurst =
  integerOption("jit-burst", values["jit-burst"], 10_000) ??
  (rateLimit === undefined ? NO_PACE.jitBurst : defaultJitBurst(rateLimit));
const TIMEOUT_SECONDS =
  integerOption("timeout", values.timeout, 7 * 24 * 3600) ??
  (rateLimit === undefined ? 300 : timeoutSeconds(JOBS, rateLimit));

const SECRET = "bench-dispatch-secret-0123456789";
const STATUS_TOKEN = `bench-status-${crypto.randomUUID()}`;
const REPOSITORIES = ["bench/api", "bench/web", "other/app", "fourth/svc"];

const example = loadWebhookExamples()["workflow_job.queued"];
if (example === undefined) throw new Error("no queued example payload");

const emulators = await startEmulators({ namespace: "bench", repositories: REPOSITORIES });
if (rateLimit !== undefined) {
  await emulators.github.seed({
    secondaryRateLimit: {
      limit: rateLimit.limit,
      windowSeconds: rateLimit.windowSeconds,
      retryAfterSeconds: Math.ceil(rateLimit.windowSeconds),
    },
  });
}
const logFile = values.log;
const worker = await startLocalWorker({
  ...(logFile === undefined ? {} : { onLog: (line: string) => appendFileSync(logFile, `${line}\n`) }),
  vars: {
    WEBHOOK_SECRET: SECRET,
    GITHUB_TOKEN: DEMO_CREDENTIALS.githubToken,
    GITHUB_API_URL: emulators.github.url,
    ...emulators.modalVars("direct"),
    // Nothing completes jobs here, so a runner cap would park most of the burst: measure dispatch without one.
    MAX_RUNNERS_PER_OWNER: "unlimited",
    JIT_RATE_PER_HOUR: String(jitRatePerHour),
    JIT_BURST: String(jitBurst),
    ...(rateLimit === undefined
      ? {}
      : {
          // Nothing runs on these runners either: a run of many minutes would pass STUCK_JOB_SECONDS and
          // ORPHAN_GRACE_SECONDS, and the reconciler would rightly take them for dead and register new ones.
          // Measure dispatch against the limit, not that.
          STUCK_JOB_SECONDS: String(24 * 3600),
          ORPHAN_GRACE_SECONDS: String(24 * 3600),
          STATUS_TOKEN,
        }),
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
await Promise.all(Array.from({ length: CONCURRENCY }, sender));
const sentSeconds = (performance.now() - start) / 1000;

type Sandboxes = Awaited<ReturnType<typeof emulators.modal.sandboxes>>;
const jobsOf = (list: Sandboxes) => new Set(list.map((sandbox) => sandbox.tags["job-id"])).size;
let sandboxes: Sandboxes = [];
const deadline = Date.now() + TIMEOUT_SECONDS * 1000;
// A limited run lasts minutes: poll less often (the figure comes from the sandboxes' own creation times) and say
// how far it got now and then.
const pollMs = rateLimit === undefined ? 100 : 1000;
let reportAt = Date.now() + 30_000;
for (;;) {
  sandboxes = await emulators.modal.sandboxes();
  if (new Set(sandboxes.map((sandbox) => sandbox.name)).size >= JOBS || Date.now() > deadline) break;
  if (rateLimit !== undefined && Date.now() >= reportAt) {
    reportAt += 30_000;
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(0);
    process.stderr.write(`  … ${seconds} s: ${jobsOf(sandboxes)} of ${JOBS} jobs have a sandbox\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, pollMs));
}
const lastRequested = Math.max(...sandboxes.map((sandbox) => sandbox.createdAt * 1000));
await new Promise((resolve) => setTimeout(resolve, 2000)); // late duplicates would show up now
sandboxes = await emulators.modal.sandboxes();

const perName = new Map<string, number>();
for (const sandbox of sandboxes) perName.set(sandbox.name ?? "", (perName.get(sandbox.name ?? "") ?? 0) + 1);
const duplicates = [...perName.values()].reduce((sum, count) => sum + count - 1, 0);
const requests = await emulators.github.requests();
const githubCalls = requests.length;
const modalCallList = await emulators.modal.calls();
const modalCalls = modalCallList.length;
/** Calls by route or method, those made once per job left out: what a job costs beyond its two calls. */
function extras(names: string[], perJob: string): string {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return (
    [...counts]
      .filter(([name]) => name !== perJob)
      .map(([name, count]) => `${name} ×${count}`)
      .join(", ") || "none"
  );
}
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

const limited =
  rateLimit === undefined
    ? undefined
    : {
        ...limitFigures(await emulators.github.rateLimits(), requests),
        ledger: await ledgerFigures(worker.url, STATUS_TOKEN),
      };

await worker.stop();
await emulators.close();

const row = (label: string, value: string) => console.log(`  ${label.padEnd(46)} ${value}`);
console.log(
  `\nbench:dispatch — ${JOBS} jobs (+${deliveries.length - JOBS} redeliveries), ${CONCURRENCY} senders, zero-latency emulators, bundle ${(worker.bundleBytes / 1024).toFixed(0)} KiB\n`,
);
/** Where a pacing variable's value came from: its flag, the limit it was derived from, or the bench's no-pace default. */
const sourceOf = (flag: "jit-rate-per-hour" | "jit-burst", fromLimit: string) =>
  values[flag] !== undefined ? `--${flag}` : rateLimit !== undefined ? fromLimit : "no pace: dispatch alone";
row(
  "JIT_RATE_PER_HOUR",
  `${jitRatePerHour} (${sourceOf("jit-rate-per-hour", "2× the limit's hourly rate")})`,
);
row("JIT_BURST", `${jitBurst} (${sourceOf("jit-burst", "¾ of the limit")})`);
if (rateLimit !== undefined) {
  row(
    "emulated secondary limit",
    `${rateLimit.limit} JIT registrations / ${rateLimit.windowSeconds} s per credential (${hourlyRate(rateLimit).toFixed(0)}/h), retry-after ${Math.ceil(rateLimit.windowSeconds)} s`,
  );
}
row("deliveries sent (s)", sentSeconds.toFixed(2));
row("non-202 answers", String(failures));
row("sandboxes requested", `${perName.size} of ${JOBS}`);
row("seconds until all sandboxes were requested", ((lastRequested - startedAt) / 1000).toFixed(2));
if (rateLimit !== undefined && limited !== undefined) {
  const elapsed = (lastRequested - startedAt) / 1000;
  const floor = floorSeconds(JOBS, rateLimit);
  row("  the limit's floor: jobs / limit × window (s)", floor.toFixed(2));
  row("  measured / floor", `${(elapsed / floor).toFixed(3)}×`);
}
row("duplicate sandboxes (must be 0)", String(duplicates));
row("GitHub calls per job", (githubCalls / JOBS).toFixed(3));
row("Modal calls per job", (modalCalls / JOBS).toFixed(3));
row(
  "  GitHub calls besides JIT",
  extras(
    requests.map((request) => request.route ?? request.path),
    "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
  ),
);
row(
  "  Modal calls besides SandboxCreateV2",
  extras(
    modalCallList.map((call) => call.method),
    "SandboxCreateV2",
  ),
);
row("accepted → sandbox requested, p50 (ms)", percentile(50).toFixed(0));
row("accepted → sandbox requested, p95 (ms)", percentile(95).toFixed(0));

if (rateLimit === undefined || limited === undefined) {
  process.exitCode = duplicates === 0 && perName.size === JOBS ? 0 : 1;
} else {
  const elapsedMs = lastRequested - startedAt;
  row("JIT registrations made / refused", `${limited.jitAccepted} / ${limited.jitRefused}`);
  row(
    "403s drawn (at most one per window)",
    `${limited.refusals} (${limited.secondary} secondary, ${limited.primary} primary; ${refusalsAllowed(elapsedMs, rateLimit)} allowed)`,
  );
  row("calls made into an announced limit (must be 0)", String(limited.duringAnnouncedLimit));
  row(
    "jobs dead-lettered or failed (must be 0)",
    `${limited.ledger.failed}${limited.ledger.capped ? " or more" : ""}`,
  );
  if (limited.ledger.waiting > 0) row("jobs still waiting in the ledgers", String(limited.ledger.waiting));
  for (const job of limited.ledger.examples)
    row(`  job ${job.jobId}`, job.lastError ?? "(no error recorded)");
  const problems = judge(
    {
      jobs: JOBS,
      jobsWithSandbox: jobsOf(sandboxes),
      duplicates,
      deadLettered: limited.ledger.failed,
      refusals: limited.refusals,
      duringAnnouncedLimit: limited.duringAnnouncedLimit,
      elapsedMs,
    },
    rateLimit,
  );
  console.log(problems.length === 0 ? "\n  PASS" : `\n  FAIL: ${problems.join("; ")}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
