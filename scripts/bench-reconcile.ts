/**
 * `npm run bench:reconcile`: one reconcile cycle over 1,000 jobs in mixed states across 20 owners, in the
 * production bundle (workerd, local Queue and Durable Objects) against zero-latency emulators of GitHub and Modal.
 * The ledgers are built through the Worker itself (scripts/lib/mixed-ledgers.ts); then every owner's ledger runs
 * the cycle its alarm would run, at a `now` past every deadline, and the Cron Trigger runs once. Prints the GitHub
 * and Modal calls, wall time and workerd CPU (from /proc: the isolate and the runtime around it, so an upper bound)
 * of that cycle against Cloudflare's limits, and what it did. Exits 1 if a busy runner was touched, a job ended up
 * with two live runners, or a cycle reported an error.
 *
 * How the cycle is run and measured: scripts/lib/measured-cycle.ts (one owner after another, so that each ledger
 * cycle's CPU can be read on its own; in production the alarms run side by side).
 *
 *   npm run bench:reconcile -- [--owners 20] [--auth app|token]
 */
import { parseArgs } from "node:util";
import * as z from "zod/mini";
import type { RecordedRequest } from "../test/emulators/github/control.ts";
import type { EmulatorCall } from "../test/emulators/modal/control-client.ts";
import { type CycleReport, runMeasuredCycle, type Window } from "./lib/measured-cycle.ts";
import {
  type Auth,
  type BenchJob,
  buildMixedLedgers,
  JOBS_PER_OWNER,
  ledgerName,
  PLAN,
} from "./lib/mixed-ledgers.ts";

const { values } = parseArgs({
  options: {
    owners: { type: "string", default: "20" },
    auth: { type: "string", default: "app" },
    timeout: { type: "string", default: "300" },
  },
});
const auth: Auth = values.auth === "token" ? "token" : "app";
/** Past every deadline the ledgers hold (10 minutes: STUCK_JOB_SECONDS and ORPHAN_GRACE_SECONDS, the sweep). */
const CYCLE_AHEAD_MS = 11 * 60_000;

// Cloudflare's limits, as these pages give them:
// - https://developers.cloudflare.com/workers/platform/limits/ — CPU time per invocation 5 min at most on Workers
//   Paid (10 ms on Free); subrequests 10,000 per invocation on Paid (50 on Free).
// - https://developers.cloudflare.com/changelog/2025-03-25-higher-cpu-limits/ — 30 s of CPU by default;
//   `limits.cpu_ms` raises it to at most 300,000 (5 min).
// - https://developers.cloudflare.com/durable-objects/platform/limits/ — a Durable Object: 30 s of CPU per request
//   by default, configurable to 5 min. The page names requests; an alarm is taken to get the same.
const CPU_LIMIT_S = 30;
const CPU_LIMIT_MAX_S = 300;
const CPU_LIMIT_FREE_MS = 10;
const SUBREQUESTS_PAID = 10_000;
const SUBREQUESTS_FREE = 50;
/** wrangler.toml runs the Cron Trigger every minute: a longer run makes the next one skip (the cron lease). */
const CRON_PERIOD_S = 60;

const JobsSchema = z.array(z.object({ jobId: z.number(), state: z.string() }));

const ledgers = await buildMixedLedgers({
  owners: Number(values.owners),
  auth,
  timeoutSeconds: Number(values.timeout),
});
const { worker, emulators, owners, jobs } = ledgers;
const { github, modal } = emulators;

const { owners: owned, cron, unattributed } = await runMeasuredCycle(ledgers, CYCLE_AHEAD_MS);

// --- What it did, read back from the emulators and the ledgers.
const requests = await github.requests();
const calls = await modal.calls();
const runners = await github.runners();
const sandboxes = await modal.sandboxes();
const githubOf = (window: Window): RecordedRequest[] => requests.slice(window.from.github, window.to.github);
const modalOf = (window: Window): EmulatorCall[] => calls.slice(window.from.modal, window.to.modal);

const busyJobs = jobs.filter((job) => job.category === "in-progress" || job.category === "in-progress-lost");
const registrationOf = new Map(runners.map((runner) => [runner.name, runner]));
const sandboxById = new Map(sandboxes.map((sandbox) => [sandbox.id, sandbox]));
const untouched = (job: BenchJob) =>
  registrationOf.get(job.runnerName)?.busy === true && sandboxById.get(job.sandboxId)?.result === undefined;
const busyLeftAlone = busyJobs.filter(untouched).length;

const liveByJob = new Map<string, number>();
const countLive = (name: string | undefined) => {
  const jobId = /^modal-(\d+)-\d+$/.exec(name ?? "")?.[1];
  if (jobId !== undefined) liveByJob.set(jobId, (liveByJob.get(jobId) ?? 0) + 1);
};
for (const runner of runners) countLive(runner.name);
const doubled = new Set<string>();
for (const [jobId, count] of liveByJob) if (count > 1) doubled.add(jobId);
liveByJob.clear();
for (const sandbox of sandboxes) if (sandbox.result === undefined) countLive(sandbox.name);
for (const [jobId, count] of liveByJob) if (count > 1) doubled.add(jobId);

const states = new Map<string, number>();
for (const owner of owners) {
  const listed = JobsSchema.parse(
    await worker.call(
      "LEDGER",
      ledgerName(owner),
      "listJobs",
      ["queued", "dispatching", "started", "running", "finished", "cancelled", "failed"],
      1000,
    ),
  );
  for (const job of listed) states.set(job.state, (states.get(job.state) ?? 0) + 1);
}
const cronLog = ledgers.logs
  .map((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed === "object" && parsed !== null ? parsed : undefined;
    } catch {
      return undefined;
    }
  })
  .find((entry) => entry !== undefined && Reflect.get(entry, "msg") === "cron cycle");
await ledgers.close();

// --- Figures.
const reports = owned.map((entry) => entry.report);
const sum = (numbers: number[]) => numbers.reduce((total, n) => total + n, 0);
const total = (pick: (report: CycleReport) => number) => sum(reports.map(pick));
const perOwner = (category: string) =>
  (PLAN.find((entry) => entry.category === category)?.count ?? 0) * owners.length;
const ledgerGithub = owned.flatMap((entry) => githubOf(entry.cycle));
const ledgerModal = owned.flatMap((entry) => modalOf(entry.cycle));
const redispatchGithub = owned.flatMap((entry) => githubOf(entry.redispatch));
const redispatchModal = owned.flatMap((entry) => modalOf(entry.redispatch));
const cronGithub = githubOf(cron);
const cronModal = modalOf(cron);
const slowest = owned.reduce((a, b) => (b.cycle.wallMs > a.cycle.wallMs ? b : a));
const costliest = owned.reduce((a, b) => (b.cycle.cpuMs > a.cycle.cpuMs ? b : a));
const busiest = Math.max(...owned.map((entry) => githubOf(entry.cycle).length + modalOf(entry.cycle).length));
const terminated = sandboxes.filter((sandbox) => sandbox.result?.exitcode === 137).length;
const deregistered = ledgerGithub.filter(
  (request) => request.method === "DELETE" && request.route?.includes("/actions/runners/") === true,
).length;
const errors = [...reports.flatMap((report) => report.errors)];
// Calls only dispatch makes: inside a ledger cycle's window they would mean the consumer overlapped it.
const overlap =
  ledgerGithub.filter((request) => request.route?.endsWith("/generate-jitconfig") === true).length +
  ledgerModal.filter((call) => call.method.startsWith("SandboxCreate")).length;

const fmt = (n: number) => n.toLocaleString("en-US");
const row = (label: string, value: string) => console.log(`  ${label.padEnd(58)} ${value}`);
function tally<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
function byKey(title: string, columns: [string, Map<string, number>][]) {
  console.log(`\n${title.padEnd(64)} ${columns.map(([name]) => name.padStart(9)).join(" ")}`);
  const keys = [...new Set(columns.flatMap(([, counts]) => [...counts.keys()]))].sort();
  for (const key of keys) {
    const cells = columns.map(([, counts]) => fmt(counts.get(key) ?? 0).padStart(9));
    console.log(`  ${key.padEnd(62)} ${cells.join(" ")}`);
  }
  const totals = columns.map(([, counts]) => fmt(sum([...counts.values()])).padStart(9));
  console.log(`  ${"total".padEnd(62)} ${totals.join(" ")}`);
}
const route = (request: RecordedRequest) => request.route ?? `${request.method} (no route)`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

console.log(
  `\nbench:reconcile — ${owners.length} owners × ${JOBS_PER_OWNER} jobs (${fmt(jobs.length)}), ${auth === "app" ? `GitHub App, ${owners.length} installations` : "one PAT"}, zero-latency emulators, bundle ${(worker.bundleBytes / 1024).toFixed(0)} KiB, ${process.arch}, node ${process.version}`,
);
console.log(
  `  ledgers built through the Worker in ${ledgers.setupSeconds.toFixed(1)} s; STUCK_JOB_SECONDS=ORPHAN_GRACE_SECONDS=600, the cycle runs at now + ${CYCLE_AHEAD_MS / 60_000} min`,
);
console.log(`\nJobs per owner, and what one cycle should do`);
for (const entry of PLAN) row(`${String(entry.count).padStart(3)}  ${entry.what}`, entry.expect);

byKey("GitHub calls during the cycle, by route", [
  ["ledgers", tally(ledgerGithub, route)],
  ["cron", tally(cronGithub, route)],
  ["re-disp.", tally(redispatchGithub, route)],
]);
byKey("Modal calls during the cycle, by method", [
  ["ledgers", tally(ledgerModal, (call) => call.method)],
  ["cron", tally(cronModal, (call) => call.method)],
  ["re-disp.", tally(redispatchModal, (call) => call.method)],
]);
console.log(
  `  (re-disp.: the queue consumer dispatching the jobs the cycle sent back — its own invocations)`,
);

console.log(
  `\nTime and workerd CPU (limit: ${CPU_LIMIT_S} s of CPU per invocation by default, up to ${CPU_LIMIT_MAX_S} s; ${CPU_LIMIT_FREE_MS} ms on Free)`,
);
row(`ledger cycle, slowest owner (${slowest.owner}), wall`, seconds(slowest.cycle.wallMs));
row(
  `ledger cycle, costliest owner (${costliest.owner}), CPU`,
  `${seconds(costliest.cycle.cpuMs)} of ${CPU_LIMIT_S} s`,
);
row(
  `ledger cycles, all ${owners.length} one after another, wall`,
  seconds(sum(owned.map((e) => e.cycle.wallMs))),
);
row(`ledger cycles, all ${owners.length}, CPU`, seconds(sum(owned.map((e) => e.cycle.cpuMs))));
row("cron run, wall", `${seconds(cron.wallMs)} (runs every ${CRON_PERIOD_S} s)`);
row("cron run, CPU", `${seconds(cron.cpuMs)} of ${CPU_LIMIT_S} s`);
row("re-dispatch afterwards (queue consumer), CPU", seconds(sum(owned.map((e) => e.redispatch.cpuMs))));
row(
  "subrequests (GitHub + Modal), most in one ledger cycle",
  `${fmt(busiest)} of ${fmt(SUBREQUESTS_PAID)} (Paid) / ${SUBREQUESTS_FREE} (Free)`,
);
row(
  "subrequests (GitHub + Modal), the cron run",
  `${fmt(cronGithub.length + cronModal.length)} of ${fmt(SUBREQUESTS_PAID)} (Paid) / ${SUBREQUESTS_FREE} (Free)`,
);

console.log(`\nWhat the cycle did`);
row("ledger cycles that ran", `${reports.filter((r) => r.ran).length} of ${owners.length}`);
row(
  "calls counted by the ledger cycles (GitHub / Modal)",
  `${fmt(total((r) => r.githubCalls))} / ${fmt(total((r) => r.modalCalls))}`,
);
row("jobs checked against GitHub", fmt(total((r) => r.checkedJobs)));
row(
  "runners retired",
  `${fmt(total((r) => r.retired.length))} (expected ${fmt(perOwner("completed") + perOwner("cancelled-lost") + perOwner("sandbox-exited"))})`,
);
row(
  "registrations deleted",
  `${fmt(deregistered)} (expected ${fmt(perOwner("cancelled-lost") + perOwner("sandbox-exited"))})`,
);
const terminateCalls = ledgerModal.filter((call) => call.method.startsWith("SandboxTerminate")).length;
row(
  "sandboxes terminated",
  `${fmt(terminated)} (expected ${fmt(perOwner("completed") + perOwner("cancelled-lost"))}; +${fmt(terminateCalls - terminated)} calls for exited ones)`,
);
row(
  "jobs re-dispatched",
  `${fmt(total((r) => r.redispatched.length))} (expected ${fmt(perOwner("sandbox-exited"))})`,
);
row("jobs failed", fmt(total((r) => r.failed.length)));
row("reads or removals deferred by the GitHub budget", fmt(total((r) => r.deferred)));
row("removals GitHub refused as busy (left alone)", fmt(total((r) => r.leftBusy.length)));
row("busy runners left alone (must be all)", `${fmt(busyLeftAlone)} of ${fmt(busyJobs.length)}`);
row("jobs with two live runners (must be 0)", fmt(doubled.size));
row("ledger states after", [...states].map(([state, n]) => `${state} ${fmt(n)}`).join(", "));
row(
  "cron: redelivered, found, adopted",
  cronLog === undefined
    ? "(no cron log line)"
    : ["redelivered", "found", "adopted"].map((key) => String(Reflect.get(cronLog, key) ?? 0)).join(", "),
);
row("calls outside the measured windows (alarms on their own)", fmt(unattributed));
row("dispatch calls inside the ledger cycles (overlap; expect 0)", fmt(overlap));
row("errors reported by the cycles", fmt(errors.length));
for (const error of errors.slice(0, 5)) console.log(`    ${error}`);

process.exitCode = busyLeftAlone === busyJobs.length && doubled.size === 0 && errors.length === 0 ? 0 : 1;
