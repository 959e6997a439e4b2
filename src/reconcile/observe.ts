/**
 * What the reconciler reads from GitHub and Modal in one cycle, and how it writes what it saw into the ledger.
 * Reads are in bulk: every job of a run in one call, every runner of a scope in one listing, every sandbox of the
 * owner in one listing — never one call per job when one per run or scope will do.
 */
import type { GitHubClient, Job, Runner } from "../github/client.ts";
import { type RunnerScope, runnerScopeForRepository } from "../github/scope.ts";
import { type LedgerStore, queuedJobOf } from "../ledger/store.ts";
import type { RunnerRecord } from "../ledger/types.ts";
import { errorFields, type Logger } from "../log.ts";
import type { SandboxProvider, SandboxSummary } from "../sandboxes/provider.ts";
import { NEW_SANDBOX_GRACE_MS } from "./orphans.ts";

export interface RunRef {
  repository: string;
  runId: number;
  installationId: number | null;
}

export interface ScopeRef {
  key: string;
  scope: RunnerScope;
  installationId: number | null;
}

export interface ObservationPlan {
  runs: RunRef[];
  scopes: ScopeRef[];
  sandboxes: boolean;
}

export interface Observations {
  jobs: Job[];
  /** Scope key → the scope as listed and every runner of ours in it. */
  registrations: Map<string, { ref: ScopeRef; runners: Runner[] }>;
  sandboxes: SandboxSummary[] | undefined;
  githubCalls: number;
  modalCalls: number;
  errors: string[];
}

const RUNNER_NAME = /^modal-(\d+)-(\d+)$/;

export function scopeKey(scope: RunnerScope): string {
  return scope.kind === "repo"
    ? `repo:${scope.owner}/${scope.repo}`.toLowerCase()
    : `org:${scope.org}`.toLowerCase();
}

export function scopeOfRunner(
  kind: "repo" | "org",
  runner: Pick<RunnerRecord, "repository" | "installationId">,
): ScopeRef {
  const scope = runnerScopeForRepository(kind, runner.repository);
  return { key: scopeKey(scope), scope, installationId: runner.installationId };
}

export interface ObserveDeps {
  owner: string;
  github: GitHubClient;
  sandboxes: SandboxProvider;
  appId: () => Promise<string>;
  log: Logger;
}

export async function observe(deps: ObserveDeps, plan: ObservationPlan): Promise<Observations> {
  const result: Observations = {
    jobs: [],
    registrations: new Map(),
    sandboxes: undefined,
    githubCalls: 0,
    modalCalls: 0,
    errors: [],
  };
  const client = (installationId: number | null) => deps.github.forInstallation(installationId ?? undefined);
  const failed = (what: string, error: unknown) => {
    result.errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    deps.log.warn("reconcile read failed", { what, ...errorFields(error) });
  };

  await Promise.all([
    ...plan.runs.map(async (run) => {
      const [owner = "", repo = ""] = run.repository.split("/");
      try {
        result.githubCalls += 1;
        result.jobs.push(...(await client(run.installationId).listJobsForRun(owner, repo, run.runId)));
      } catch (error) {
        failed(`jobs of run ${run.runId}`, error);
      }
    }),
    ...plan.scopes.map(async (scope) => {
      try {
        result.githubCalls += 1;
        const runners = await client(scope.installationId).listRunners(scope.scope, { namePrefix: "modal-" });
        result.registrations.set(scope.key, { ref: scope, runners });
      } catch (error) {
        failed(`runners of ${scope.key}`, error);
      }
    }),
    (async () => {
      if (!plan.sandboxes) return;
      try {
        result.modalCalls += 1;
        result.sandboxes = await deps.sandboxes.listRunners(await deps.appId(), {
          owner: deps.owner.toLowerCase(),
        });
      } catch (error) {
        failed("sandboxes", error);
      }
    })(),
  ]);
  return result;
}

function time(iso: string | null, fallback: number): number {
  const parsed = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isNaN(parsed) ? fallback : parsed;
}

/**
 * Writes what was seen into the ledger: GitHub's word on jobs whose deliveries we missed (as a webhook would
 * have), each runner's registration and sandbox, and runners of ours the ledger did not know (strays).
 */
export function applyObservations(
  store: LedgerStore,
  owner: string,
  scopeKind: "repo" | "org",
  observed: Observations,
  now: number,
  /** The installation to act as for strays found in a sandbox listing (the owner's latest known one). */
  defaultInstallation: number | null,
): void {
  for (const job of observed.jobs) {
    const known = store.job(job.id);
    if (known === undefined) continue;
    const extra = { runnerName: job.runnerName, runnerId: job.runnerId, conclusion: job.conclusion };
    if (
      job.status === "in_progress" &&
      ["queued", "dispatching", "started", "failed"].includes(known.state)
    ) {
      store.recordLifecycle({
        job: queuedJobOf(owner, known, extra),
        kind: "job.in_progress",
        receivedAt: time(job.startedAt, now),
        now,
      });
    }
    if (job.status === "completed" && known.endedAt === null) {
      if (known.state !== "running" && job.runnerName !== null && job.startedAt !== null) {
        store.recordLifecycle({
          job: queuedJobOf(owner, known, extra),
          kind: "job.in_progress",
          receivedAt: time(job.startedAt, now),
          now,
        });
      }
      store.recordLifecycle({
        job: queuedJobOf(owner, known, extra),
        kind: "job.completed",
        receivedAt: time(job.completedAt, now),
        now,
      });
    }
  }

  const inFlight = store.runnersInFlight();
  for (const [key, { ref, runners: registrations }] of observed.registrations) {
    const byName = new Map(registrations.map((runner) => [runner.name, runner]));
    for (const runner of inFlight) {
      if (scopeOfRunner(scopeKind, runner).key !== key) continue;
      const found = byName.get(runner.runnerName);
      byName.delete(runner.runnerName);
      if (found === undefined) {
        store.updateRunner(runner.runnerName, now, {
          githubStatus: "absent",
          githubSeenAt: now,
          absentSince: runner.absentSince ?? now,
          idleSince: null,
          offlineSince: null,
        });
        continue;
      }
      const status = found.busy ? "busy" : found.status === "online" ? "online" : "offline";
      store.updateRunner(runner.runnerName, now, {
        githubStatus: status,
        githubSeenAt: now,
        runnerId: runner.runnerId ?? found.id,
        absentSince: null,
        idleSince: status === "online" ? (runner.idleSince ?? now) : null,
        offlineSince: status === "offline" ? (runner.offlineSince ?? now) : null,
      });
      // GitHub says it runs a job whose delivery we have not seen (yet).
      if (status === "busy" && (runner.state === "live" || runner.state === "starting")) {
        store.updateRunner(runner.runnerName, now, { state: "busy", busyAt: now });
      }
    }
    // What is left carries our naming but is unknown to the ledger.
    for (const stray of byName.values()) {
      const match = RUNNER_NAME.exec(stray.name);
      if (match === null) continue;
      const [kind, target = ""] = key.split(":");
      store.addStray({
        runnerName: stray.name,
        jobId: Number(match[1]),
        repository: kind === "org" ? `${target}/*` : target,
        installationId: ref.installationId,
        reason: "found on GitHub, unknown to the ledger",
        now,
      });
      const status = stray.busy ? "busy" : stray.status === "online" ? "online" : "offline";
      store.updateRunner(stray.name, now, {
        runnerId: stray.id,
        githubStatus: status,
        githubSeenAt: now,
        idleSince: status === "online" ? now : null,
        offlineSince: status === "offline" ? now : null,
        checkAt: now + NEW_SANDBOX_GRACE_MS,
      });
    }
  }

  if (observed.sandboxes !== undefined) {
    const byName = new Map<string, SandboxSummary>();
    for (const sandbox of observed.sandboxes) {
      const name = sandbox.tags["runner-name"] ?? sandbox.name;
      if (name !== undefined) byName.set(name, sandbox);
    }
    for (const runner of store.runnersInFlight()) {
      const sandbox = byName.get(runner.runnerName);
      byName.delete(runner.runnerName);
      if (sandbox !== undefined) {
        store.updateRunner(runner.runnerName, now, {
          sandboxId: runner.sandboxId ?? sandbox.sandboxId,
          sandboxGoneAt: null,
        });
      } else if (
        runner.state !== "starting" &&
        (runner.requestedAt === null || now - runner.requestedAt >= NEW_SANDBOX_GRACE_MS)
      ) {
        store.updateRunner(runner.runnerName, now, { sandboxGoneAt: runner.sandboxGoneAt ?? now });
      }
    }
    for (const [name, sandbox] of byName) {
      const match = RUNNER_NAME.exec(name);
      const repository = sandbox.tags.repository;
      if (match === null || repository === undefined) continue;
      store.addStray({
        runnerName: name,
        jobId: Number(match[1]),
        repository,
        installationId: defaultInstallation,
        reason: "its sandbox was found on Modal, unknown to the ledger",
        now,
      });
      store.updateRunner(name, now, { sandboxId: sandbox.sandboxId, checkAt: now });
    }
  }
}
