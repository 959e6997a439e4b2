/**
 * One reconcile cycle for one repository owner, run by that owner's ledger when a deadline of one of its jobs or
 * runners comes due (its Durable Object alarm). GitHub's deliveries keep the ledger current; the cycle reads from
 * GitHub and Modal only what a passed deadline needs — a job still unpicked STUCK_JOB_SECONDS after its sandbox
 * was requested, a finished runner whose sandbox should have ended, a sandbox past its lifetime, the periodic
 * sweep — and repairs:
 *
 * 1. messages that may have been lost are sent again (the ledger keeps every job's queue message);
 * 2. runners that are dead, hung or stray are removed (orphans.ts);
 * 3. waiting jobs are matched with idle runners (coverage.ts): a job no idle runner of ours can take is dispatched
 *    again with the next runner name, at most MAX_DISPATCH_ATTEMPTS runners in all; an idle runner no job needs
 *    (a cancelled job's, the spare a stolen runner leaves behind) is removed at once;
 * 4. every removal deregisters before it terminates (retire.ts), and a busy runner is never touched.
 *
 * Bounded: at most a few hundred items per cycle, GitHub calls within the reconciler's share of the credential's
 * hourly budget (what is refused is deferred a minute), one cycle at a time per owner (a lease).
 */
import type { LifecycleConfig } from "../config/dispatch.ts";
import type { GitHubClient } from "../github/client.ts";
import type { JobMessage } from "../jobs/message.ts";
import type { LedgerStore } from "../ledger/store.ts";
import type { JobRecord, RunnerRecord } from "../ledger/types.ts";
import { errorFields, type Logger } from "../log.ts";
import type { SandboxProvider } from "../sandboxes/provider.ts";
import { cover } from "./coverage.ts";
import {
  applyObservations,
  type ObservationPlan,
  observe,
  type RunRef,
  type ScopeRef,
  scopeOfRunner,
} from "./observe.ts";
import { judgeRunner } from "./orphans.ts";
import { retireRunner } from "./retire.ts";

export interface OwnerCycleDeps {
  owner: string;
  store: LedgerStore;
  lifecycle: LifecycleConfig;
  scopeKind: "repo" | "org";
  github: GitHubClient;
  sandboxes: SandboxProvider;
  appId: () => Promise<string>;
  /** How many of `want` GitHub calls the credential's budget lets the reconciler make now. */
  grant: (installationId: number | null, want: number) => Promise<number>;
  send: (messages: { body: JobMessage; delaySeconds?: number }[]) => Promise<void>;
  now: number;
  log: Logger;
}

export interface CycleReport {
  /** False when another cycle of this owner held the lease. */
  ran: boolean;
  githubCalls: number;
  modalCalls: number;
  checkedJobs: number;
  retired: { runnerName: string; reason: string }[];
  leftBusy: string[];
  redispatched: { jobId: number; reason: string }[];
  failed: { jobId: number; reason: string }[];
  resent: number[];
  deferred: number;
  errors: string[];
}

const CYCLE_LEASE_MS = 5 * 60_000;
/** While runners are in flight, everything of the owner is looked at this often even when no deadline passed. */
export const SWEEP_INTERVAL_MS = 10 * 60_000;
const DEFER_MS = 60_000;
const RUNNING_RECHECK_MS = 30 * 60_000;
const RETIRE_BACKOFF_MS = [15_000, 60_000, 5 * 60_000, 15 * 60_000];

export function emptyReport(): CycleReport {
  return {
    ran: false,
    githubCalls: 0,
    modalCalls: 0,
    checkedJobs: 0,
    retired: [],
    leftBusy: [],
    redispatched: [],
    failed: [],
    resent: [],
    deferred: 0,
    errors: [],
  };
}

export async function runOwnerCycle(deps: OwnerCycleDeps): Promise<CycleReport> {
  const report = emptyReport();
  if (!deps.store.acquireCycle(deps.now, CYCLE_LEASE_MS)) return report;
  report.ran = true;
  try {
    await cycle(deps, report);
  } catch (error) {
    report.errors.push(error instanceof Error ? error.message : String(error));
    deps.log.error("reconcile cycle failed", errorFields(error));
  } finally {
    deps.store.releaseCycle();
  }
  return report;
}

/** Due runners that need GitHub's or Modal's word before anything is decided about them. */
function needsLook(runner: RunnerRecord, now: number, lifetimeMs: number): boolean {
  if (runner.state === "retiring" || runner.state === "starting" || runner.state === "gone") return false;
  if (runner.state === "done" || runner.attempt === 0) return true;
  return runner.requestedAt !== null && now >= runner.requestedAt + lifetimeMs;
}

async function cycle(deps: OwnerCycleDeps, report: CycleReport): Promise<void> {
  const { store, now, lifecycle, log } = deps;
  const graceMs = lifecycle.orphanGraceSeconds * 1000;
  const stuckMs = lifecycle.stuckJobSeconds * 1000;
  const lifetimeMs = store.deadlines.runnerLifetimeMs;
  const dueJobs = store.dueJobs(now);
  const dueRunners = store.dueRunners(now);
  const sweep = store.runnersInFlight().length > 0 && (store.sweepAt() ?? 0) <= now;
  const defaultInstallation =
    [...dueJobs, ...dueRunners].find((item) => item.installationId !== null)?.installationId ?? null;

  // 1. Messages that may have been lost: a dispatch whose lease ran out long ago, a re-dispatch never claimed.
  const resend: { body: JobMessage }[] = [];
  for (const job of dueJobs) {
    const lost =
      (job.state === "queued" && job.parkedAt === null) ||
      (job.state === "dispatching" && job.leaseUntil <= now);
    if (!lost) continue;
    const message = store.resendDue(job.jobId, now);
    if (message !== undefined) {
      resend.push({ body: message });
      report.resent.push(job.jobId);
    }
  }

  // 2. What to read.
  const checking = dueJobs.filter((job) => job.state === "started" || job.state === "running");
  report.checkedJobs = checking.length;
  const watched = dueRunners.filter((runner) => needsLook(runner, now, lifetimeMs));
  const plan = planReads(deps, checking, watched, sweep);
  const trimmed = await withinBudget(deps, plan, report);
  const observed = await observe(
    { owner: deps.owner, github: deps.github, sandboxes: deps.sandboxes, appId: deps.appId, log },
    trimmed,
  );
  report.githubCalls += observed.githubCalls;
  report.modalCalls += observed.modalCalls;
  report.errors.push(...observed.errors);
  applyObservations(store, deps.owner, deps.scopeKind, observed, now, defaultInstallation);

  // 3. Dead, hung and stray runners.
  const retire = new Map<string, { reason: string; registrationAbsent: boolean }>();
  for (const runner of store.runnersInFlight()) {
    const seen = {
      github: observed.registrations.has(scopeOfRunner(deps.scopeKind, runner).key),
      sandboxes: observed.sandboxes !== undefined,
    };
    if (!seen.github && !seen.sandboxes) continue;
    const judgement = judgeRunner(runner, seen, now, graceMs);
    if (judgement.action === "gone") store.runnerGone(runner.runnerName, now);
    if (judgement.action === "retire") {
      store.updateRunner(runner.runnerName, now, {
        state: "retiring",
        retireReason: judgement.reason,
        checkAt: now,
      });
      retire.set(runner.runnerName, judgement);
    }
  }

  // 4. Waiting jobs and idle runners.
  const coverage = cover(store.jobsAwaitingPickup(), store.runnersInFlight(), (jobId) => store.job(jobId));
  for (const [jobId, runnerName] of coverage.leftTo) {
    log.info("job left to another idle runner of ours", { jobId, runnerName });
  }
  for (const spare of coverage.spares) {
    store.updateRunner(spare.runner.runnerName, now, {
      state: "retiring",
      retireReason: spare.reason,
      checkAt: now,
    });
    retire.set(spare.runner.runnerName, {
      reason: spare.reason,
      registrationAbsent: spare.runner.githubStatus === "absent",
    });
  }
  for (const runner of store.dueRunners(now)) {
    if (runner.state === "retiring" && !retire.has(runner.runnerName)) {
      retire.set(runner.runnerName, {
        reason: runner.retireReason ?? "marked for removal",
        registrationAbsent: false,
      });
    }
  }

  // 5. Remove, deregistering first.
  await retireAll(deps, retire, report);

  // 6. Jobs that need another runner.
  for (const { job, reason } of coverage.uncovered) {
    if (job.state !== "started") continue;
    const outcome = store.redispatch(job.jobId, reason, lifecycle.maxDispatchAttempts, now);
    if (outcome.kind === "sent") {
      resend.push({ body: outcome.message });
      report.redispatched.push({ jobId: job.jobId, reason });
      log.info("job dispatched again", { jobId: job.jobId, attempt: outcome.attempt, reason });
    } else if (outcome.kind === "failed") {
      report.failed.push({ jobId: job.jobId, reason: outcome.reason });
      log.error("job failed", { jobId: job.jobId, reason: outcome.reason });
    }
  }
  if (resend.length > 0) await deps.send(resend);

  // 7. Next deadlines of what was due and is still in flight.
  for (const job of checking) {
    const current = store.job(job.jobId);
    if (current === undefined || current.checkAt === null || current.checkAt > now) continue;
    const readable = trimmed.runs.some((run) => run.runId === job.runId);
    const next = !readable
      ? now + DEFER_MS
      : current.state === "running"
        ? now + RUNNING_RECHECK_MS
        : now + stuckMs;
    store.setJobCheck(
      job.jobId,
      current.state === "started" || current.state === "running" ? next : null,
      now,
    );
  }
  for (const runner of store.dueRunners(now)) {
    if (runner.state === "retiring" || runner.state === "gone") continue;
    const lifetimeEnd = runner.requestedAt === null ? undefined : runner.requestedAt + lifetimeMs;
    const next =
      runner.state === "done" && runner.doneAt !== null && runner.doneAt + graceMs > now
        ? runner.doneAt + graceMs
        : lifetimeEnd !== undefined && lifetimeEnd > now
          ? lifetimeEnd + DEFER_MS
          : now + (needsLook(runner, now, lifetimeMs) ? SWEEP_INTERVAL_MS : DEFER_MS);
    store.updateRunner(runner.runnerName, now, { checkAt: next });
  }
  store.setSweepAt(
    store.runnersInFlight().length > 0
      ? sweep
        ? now + SWEEP_INTERVAL_MS
        : (store.sweepAt() ?? now + SWEEP_INTERVAL_MS)
      : undefined,
  );
}

function planReads(
  deps: OwnerCycleDeps,
  checking: readonly JobRecord[],
  watched: readonly RunnerRecord[],
  sweep: boolean,
): ObservationPlan {
  const runs = new Map<string, RunRef>();
  for (const job of checking) {
    runs.set(`${job.repository}#${job.runId}`, {
      repository: job.repository,
      runId: job.runId,
      installationId: job.installationId,
    });
  }
  const scopes = new Map<string, ScopeRef>();
  const addScope = (runner: RunnerRecord) => {
    const ref = scopeOfRunner(deps.scopeKind, runner);
    if (!scopes.has(ref.key)) scopes.set(ref.key, ref);
  };
  for (const job of checking) {
    const own = job.runnerName === null ? undefined : deps.store.runner(job.runnerName);
    if (own !== undefined && own.state !== "gone") addScope(own);
  }
  for (const runner of watched) addScope(runner);
  if (sweep) for (const runner of deps.store.runnersInFlight()) addScope(runner);
  return {
    runs: [...runs.values()],
    scopes: [...scopes.values()],
    sandboxes: checking.length > 0 || watched.length > 0 || sweep,
  };
}

/** Drops the reads the budget does not allow (they are deferred), installation by installation. */
async function withinBudget(
  deps: OwnerCycleDeps,
  plan: ObservationPlan,
  report: CycleReport,
): Promise<ObservationPlan> {
  const byInstallation = new Map<number | null, { runs: RunRef[]; scopes: ScopeRef[] }>();
  const group = (installationId: number | null) => {
    let entry = byInstallation.get(installationId);
    if (entry === undefined) {
      entry = { runs: [], scopes: [] };
      byInstallation.set(installationId, entry);
    }
    return entry;
  };
  for (const run of plan.runs) group(run.installationId).runs.push(run);
  for (const scope of plan.scopes) group(scope.installationId).scopes.push(scope);
  const allowed: ObservationPlan = { runs: [], scopes: [], sandboxes: plan.sandboxes };
  for (const [installationId, wanted] of byInstallation) {
    const want = wanted.runs.length + wanted.scopes.length;
    const granted = await deps.grant(installationId, want);
    // Job reads first: they decide re-dispatches; runner lists second.
    const runs = wanted.runs.slice(0, granted);
    const scopes = wanted.scopes.slice(0, Math.max(0, granted - runs.length));
    allowed.runs.push(...runs);
    allowed.scopes.push(...scopes);
    report.deferred += want - runs.length - scopes.length;
  }
  if (report.deferred > 0)
    deps.log.warn("reconcile reads deferred by the GitHub budget", { deferred: report.deferred });
  return allowed;
}

/** GitHub calls removing a runner takes at most: none when its registration is gone, two when its id is unknown. */
function githubCallsToRetire(
  runner: RunnerRecord,
  plan: { registrationAbsent: boolean } | undefined,
): number {
  if (plan?.registrationAbsent === true) return 0;
  return runner.runnerId === null ? 2 : 1;
}

async function retireAll(
  deps: OwnerCycleDeps,
  retire: ReadonlyMap<string, { reason: string; registrationAbsent: boolean }>,
  report: CycleReport,
): Promise<void> {
  const { store, now, log } = deps;
  const byInstallation = new Map<number | null, RunnerRecord[]>();
  for (const name of retire.keys()) {
    const runner = store.runner(name);
    if (runner === undefined || runner.state !== "retiring") continue;
    const list = byInstallation.get(runner.installationId) ?? [];
    list.push(runner);
    byInstallation.set(runner.installationId, list);
  }
  for (const [installationId, runners] of byInstallation) {
    // The budget charges what it grants, spent or not: ask for what these removals take.
    const want = runners.reduce(
      (sum, runner) => sum + githubCallsToRetire(runner, retire.get(runner.runnerName)),
      0,
    );
    let budget = await deps.grant(installationId, want);
    const github = deps.github.forInstallation(installationId ?? undefined);
    for (const runner of runners) {
      const plan = retire.get(runner.runnerName);
      if (plan === undefined) continue;
      if (budget < githubCallsToRetire(runner, plan)) {
        store.updateRunner(runner.runnerName, now, { checkAt: now + DEFER_MS });
        report.deferred += 1;
        continue;
      }
      try {
        const outcome = await retireRunner(
          { github, sandboxes: deps.sandboxes, appId: deps.appId, scopeKind: deps.scopeKind, log },
          {
            runnerName: runner.runnerName,
            repository: runner.repository,
            runnerId: runner.runnerId,
            sandboxId: runner.sandboxId,
            registrationAbsent: plan.registrationAbsent,
          },
        );
        report.githubCalls += outcome.githubCalls;
        budget -= outcome.githubCalls;
        if (outcome.kind === "busy") {
          report.leftBusy.push(runner.runnerName);
          store.updateRunner(runner.runnerName, now, {
            state: "busy",
            runnerId: outcome.runnerId,
            busyAt: now,
            checkAt: (runner.requestedAt ?? now) + store.deadlines.runnerLifetimeMs + DEFER_MS,
          });
          continue;
        }
        report.modalCalls += outcome.modalCalls;
        store.updateRunner(runner.runnerName, now, {
          deregisteredAt: now,
          ...(outcome.terminated.length > 0 ? { terminatedAt: now } : {}),
        });
        store.runnerGone(runner.runnerName, now);
        report.retired.push({ runnerName: runner.runnerName, reason: plan.reason });
        log.info("runner removed", {
          runnerName: runner.runnerName,
          jobId: runner.jobId,
          reason: plan.reason,
          sandboxes: outcome.terminated,
        });
      } catch (error) {
        const tries = runner.retireTries + 1;
        const wait = RETIRE_BACKOFF_MS[Math.min(tries - 1, RETIRE_BACKOFF_MS.length - 1)] ?? DEFER_MS;
        store.updateRunner(runner.runnerName, now, {
          retireTries: tries,
          lastError: error instanceof Error ? error.message : String(error),
          checkAt: now + wait,
        });
        report.errors.push(
          `removing ${runner.runnerName}: ${error instanceof Error ? error.message : String(error)}`,
        );
        log.warn("runner removal failed; will try again", {
          runnerName: runner.runnerName,
          ...errorFields(error),
        });
      }
    }
  }
}
