/**
 * For bench:reconcile: the production bundle in workerd with many owners' ledgers full of jobs in the states a
 * reconcile cycle has to sort out. Every job really goes through the Worker: GitHub's emulator announces it to a
 * webhook pointing at the Worker, the consumer registers a runner and starts a sandbox. Then GitHub and Modal
 * move on without the ledger — some moves are delivered, some are lost (the hook's URL is unset meanwhile, so
 * GitHub's log shows them failed, as when the Worker was down) — and only a reconcile cycle can catch up.
 */
import { generateAppKeyPair } from "../../test/emulators/github/app-keys.ts";
import { DEMO_CREDENTIALS, startEmulators } from "../../test/node/support/emulators.ts";
import { loadWebhookExamples } from "../../test/node/support/webhook-examples.ts";
import { parseExample } from "../../test/support/payloads.ts";
import { type LocalWorker, startLocalWorker } from "./local-worker.ts";

export type Auth = "app" | "token";

export type Category =
  | "completed"
  | "completed-lost"
  | "cancelled-lost"
  | "in-progress"
  | "in-progress-lost"
  | "sandbox-exited"
  | "queued-idle";

/** Per owner, out of 50 jobs: what happened to them after dispatch, and what one cycle should do about it. */
export const PLAN: readonly { category: Category; count: number; what: string; expect: string }[] = [
  {
    category: "completed",
    count: 10,
    what: "completed (delivered); runner gone, sandbox hangs on",
    expect: "sandbox terminated",
  },
  {
    category: "completed-lost",
    count: 5,
    what: "completed, deliveries lost; sandbox hangs on",
    expect: "learnt from GitHub; sandbox kept for the grace",
  },
  {
    category: "cancelled-lost",
    count: 10,
    what: "cancelled before pickup (lost); runner idle",
    expect: "deregistered, then terminated",
  },
  { category: "in-progress", count: 5, what: "running on its runner (delivered)", expect: "left alone" },
  {
    category: "in-progress-lost",
    count: 5,
    what: "running on its runner (delivery lost)",
    expect: "learnt from GitHub; left alone",
  },
  {
    category: "sandbox-exited",
    count: 10,
    what: "queued; sandbox exited unconnected (+ label large)",
    expect: "deregistered, dispatched again",
  },
  {
    category: "queued-idle",
    count: 5,
    what: "queued; its runner online and idle",
    expect: "left alone",
  },
];

export const JOBS_PER_OWNER = PLAN.reduce((sum, entry) => sum + entry.count, 0);
/** Jobs of an owner are spread over this many workflow runs, each run holding jobs of every category. */
const RUNS_PER_OWNER = 10;
const APP_ID = 4_242;
const BASE_LABELS = ["self-hosted", "modal"];
const SECRET = "bench-reconcile-secret-0123456789";

export interface BenchJob {
  owner: string;
  repository: string;
  jobId: number;
  category: Category;
  runnerName: string;
  runnerId: number;
  sandboxId: string;
}

export interface MixedLedgers {
  worker: LocalWorker;
  emulators: Awaited<ReturnType<typeof startEmulators>>;
  owners: string[];
  jobs: BenchJob[];
  /** What the Worker logged, line by line. */
  logs: string[];
  setupSeconds: number;
  close(): Promise<void>;
}

export interface MixedLedgersOptions {
  owners: number;
  auth: Auth;
  /** Seconds to wait for the dispatch of every job. */
  timeoutSeconds: number;
}

function categoryOf(index: number): Category {
  let end = 0;
  for (const entry of PLAN) {
    end += entry.count;
    if (index < end) return entry.category;
  }
  throw new Error(`job index ${index} is past the plan`);
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function each<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await task(item);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

async function until(what: string, deadline: number, check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The ledger object's name (`ledgerFor` in src/ledger/job-ledger.ts, which Node code cannot import). */
export function ledgerName(owner: string): string {
  return `owner:${owner.toLowerCase()}`;
}

export async function buildMixedLedgers(options: MixedLedgersOptions): Promise<MixedLedgers> {
  const started = performance.now();
  const owners = Array.from({ length: options.owners }, (_, i) => `owner${String(i + 1).padStart(2, "0")}`);
  const repositories = owners.map((owner) => `${owner}/app`);
  const example = loadWebhookExamples()["workflow_job.queued"];
  if (example === undefined) throw new Error("no queued example payload");

  const emulators = await startEmulators({ namespace: "bench-reconcile", repositories });
  const { github, modal } = emulators;
  await github.settings({ jobPayloadTemplate: parseExample(example) });
  const credentials: Record<string, string> = {};
  if (options.auth === "app") {
    const keys = await generateAppKeyPair();
    await github.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKeyPem }],
      installations: owners.map((owner, i) => ({ id: 70_000 + i, appId: APP_ID, account: owner })),
    });
    credentials.GITHUB_APP_ID = String(APP_ID);
    credentials.GITHUB_APP_PRIVATE_KEY = keys.pkcs1;
  } else {
    credentials.GITHUB_TOKEN = DEMO_CREDENTIALS.githubToken;
    // 1,000 registrations on one PAT would take hours at the production pace; the reconciler makes none.
    credentials.JIT_RATE_PER_HOUR = "1000000";
    credentials.JIT_BURST = "10000";
  }

  const logs: string[] = [];
  const worker = await startLocalWorker({
    vars: {
      WEBHOOK_SECRET: SECRET,
      GITHUB_API_URL: github.url,
      ...credentials,
      ...emulators.modalVars("direct"),
      MAX_RUNNERS_PER_OWNER: "unlimited",
      // Every deadline is 10 minutes away in real time, so no ledger alarm fires on its own while the ledgers are
      // built; the cycle is then run at a `now` past all of them.
      STUCK_JOB_SECONDS: "600",
      ORPHAN_GRACE_SECONDS: "600",
      // Explicit repositories: the cron's scan of queued runs has work to do.
      ALLOWED_REPOS: repositories.join(","),
    },
    // What a measured reconcile cycle sends to the queue (re-dispatches) is consumed after it, not during it.
    holdBatchesSeconds: 2,
    onLog: (line) => logs.push(line),
  });

  // One App hook, or one organization hook per owner: the control object learns them from the deliveries' headers.
  const hookSeeds =
    options.auth === "app"
      ? [{ kind: "app" as const, appId: APP_ID }]
      : owners.map((owner) => ({ kind: "organization" as const, organization: owner }));
  const hooks = await Promise.all(
    hookSeeds.map(async (seed) => ({ ...seed, id: await github.createHook({ ...seed, secret: SECRET }) })),
  );
  const pointHooks = (url: string | undefined) =>
    Promise.all(
      hooks.map((hook) =>
        github.createHook({ ...hook, secret: SECRET, ...(url === undefined ? {} : { url }) }),
      ),
    );
  await pointHooks(`${worker.url}/webhook`);

  const planned = owners.flatMap((owner, o) =>
    Array.from({ length: JOBS_PER_OWNER }, (_, index) => ({
      owner,
      repository: `${owner}/app`,
      jobId: 8_000_000_000 + o * 1_000 + index,
      runId: 900_000 + o * 100 + (index % RUNS_PER_OWNER),
      category: categoryOf(index),
    })),
  );
  // Seeding a queued job makes the emulator deliver its `queued` webhook to the Worker.
  await each(owners, 4, async (owner) => {
    await github.seed({
      jobs: planned
        .filter((job) => job.owner === owner)
        .map((job) => ({
          id: job.jobId,
          repository: job.repository,
          status: "queued" as const,
          runId: job.runId,
          labels: job.category === "sandbox-exited" ? [...BASE_LABELS, "large"] : BASE_LABELS,
        })),
    });
  });
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  await until("every job's sandbox", deadline, async () => {
    const names = new Set((await modal.sandboxes()).map((sandbox) => sandbox.name));
    return planned.every((job) => names.has(`modal-${job.jobId}-1`));
  });
  // The consumer records the runner after the sandbox exists: wait for the registrations too.
  const runnerIds = new Map<string, number>();
  await until("every job's runner", deadline, async () => {
    for (const runner of await github.runners()) runnerIds.set(runner.name, runner.id);
    return planned.every((job) => runnerIds.has(`modal-${job.jobId}-1`));
  });
  const sandboxIds = new Map((await modal.sandboxes()).map((sandbox) => [sandbox.name ?? "", sandbox.id]));
  const jobs: BenchJob[] = planned.map((job) => {
    const runnerName = `modal-${job.jobId}-1`;
    return {
      owner: job.owner,
      repository: job.repository,
      jobId: job.jobId,
      category: job.category,
      runnerName,
      runnerId: runnerIds.get(runnerName) ?? 0,
      sandboxId: sandboxIds.get(runnerName) ?? "",
    };
  });
  const of = (...categories: Category[]) => jobs.filter((job) => categories.includes(job.category));

  // Delivered: what the Worker hears of.
  await each(of("completed", "in-progress", "cancelled-lost", "queued-idle"), 16, async (job) => {
    if (job.category === "cancelled-lost" || job.category === "queued-idle") {
      await github.updateRunner(job.runnerId, { status: "online" });
      return;
    }
    await github.updateRunner(job.runnerId, { busy: true, jobId: job.jobId });
    if (job.category === "completed") {
      await github.updateRunner(job.runnerId, { complete: { conclusion: "success" } });
    }
  });
  await until("the delivered moves to reach the ledgers", deadline, async () => {
    for (const owner of owners) {
      const finished = await worker.call("LEDGER", ledgerName(owner), "listJobs", ["finished"], 1000);
      const running = await worker.call("LEDGER", ledgerName(owner), "listJobs", ["running"], 1000);
      if (!Array.isArray(finished) || !Array.isArray(running)) throw new Error("listJobs answered no list");
      const want = (category: Category) => PLAN.find((entry) => entry.category === category)?.count ?? 0;
      if (finished.length < want("completed") || running.length < want("in-progress")) return false;
    }
    return true;
  });

  // Lost: GitHub's log shows them failed; the ledgers never hear of them.
  await pointHooks(undefined);
  await each(
    of("completed-lost", "in-progress-lost", "cancelled-lost", "sandbox-exited"),
    16,
    async (job) => {
      if (job.category === "cancelled-lost") await github.cancelJob(job.jobId);
      else if (job.category === "sandbox-exited") await modal.finish(job.sandboxId);
      else {
        await github.updateRunner(job.runnerId, { busy: true, jobId: job.jobId });
        if (job.category === "completed-lost") {
          await github.updateRunner(job.runnerId, { complete: { conclusion: "success" } });
        }
      }
    },
  );

  return {
    worker,
    emulators,
    owners,
    jobs,
    logs,
    setupSeconds: (performance.now() - started) / 1000,
    async close() {
      await worker.stop();
      await emulators.close();
    },
  };
}
