/**
 * One queued job → one runner registration → one sandbox. The ledger's claim makes this happen once per job id
 * and attempt; the runner name derived from both (`modal-<jobId>-<attempt>`) makes every retry of an attempt agree
 * on what it is making, so a crash between any two steps ends, after redelivery, with one runner and one sandbox:
 *
 * - fresh claim: Modal ids (cached) → a JIT pacing grant → JIT config → sandbox named after the runner → recorded;
 * - resumed claim (an earlier attempt stopped part-way): first look for a sandbox already running under the name
 *   and adopt it — its runner holds a valid JIT config that must not be replaced — else continue as fresh, where
 *   GitHub's 409 on the runner name resolves a registration left behind.
 *
 * Modal ids are resolved before the runner is registered, so a misconfigured Modal side never leaves runners
 * registered. What a failure means is decided in one place (settle.ts): a retry on the queue, a wait in the ledger,
 * or a failure — which removes what was registered (retire.ts) before the job is marked failed.
 */
import type { DispatchConfig } from "../config/dispatch.ts";
import { PermanentError, RetryableError, UpstreamError } from "../errors.ts";
import type { GitHubClient } from "../github/client.ts";
import { runnerScopeForRepository } from "../github/scope.ts";
import type { JobMessage, MessageHints } from "../jobs/message.ts";
import { sizeJob } from "../jobs/sizing.ts";
import type { GitHubBudget } from "../ledger/github-budget.ts";
import type { JobLedger } from "../ledger/job-ledger.ts";
import type { CacheEntry, ParkInput, WaitReason } from "../ledger/types.ts";
import { sandboxSizeOf } from "../ledger/usage.ts";
import { errorFields, type Logger } from "../log.ts";
import { retireRunner } from "../reconcile/retire.ts";
import type { RunnerSandboxSpec, SandboxProvider, StartedSandbox } from "../sandboxes/provider.ts";
import { cacheKeys, type IsolateCache } from "./isolate-cache.ts";
import { jitRate } from "./rate-limits.ts";
import { refuseJob } from "./refuse.ts";
import { resolveRunnerImage } from "./runner-image.ts";
import { settle } from "./settle.ts";

const GRPC_NOT_FOUND = 5;
/** Ids from the ledger's copy may be near their end of life: held in the isolate for a short while only. */
const LEDGER_COPY_TTL_MS = 60 * 60 * 1000;
/** Jobs released together at one due time are spread over this much more. */
const WAKE_JITTER_MS = 2_000;

/** Where the official runner image keeps the runner. */
export const RUNNER_COMMAND = ["/home/runner/run.sh"];

export interface DispatchDeps {
  config: DispatchConfig;
  github: GitHubClient;
  sandboxes: SandboxProvider;
  ledger: DurableObjectStub<JobLedger>;
  /** The budget object of a GitHub credential. */
  budget: (credential: string) => DurableObjectStub<GitHubBudget>;
  /** Tells the budget objects the limits GitHub announced during this attempt. */
  reportLimits: () => Promise<void>;
  cache: IsolateCache;
  now: () => number;
  random: () => number;
  /** Waits (at most a second: a paced slot the queue delivered early). */
  sleep: (ms: number) => Promise<void>;
  log: Logger;
  /** How long one attempt may hold the job before another may take it over. */
  leaseMs: number;
  /** The Queue's delivery attempts of this message so far. */
  attempts: number;
  /** Sends waiting jobs that a freed slot lets through back to the queue. */
  requeue: (messages: JobMessage[]) => Promise<void>;
}

export type DispatchResult =
  | {
      kind: "started";
      runnerName: string;
      runnerId: number | null;
      sandboxId: string | null;
      /** A sandbox or runner from an earlier attempt was found and kept. */
      adopted: boolean;
    }
  | { kind: "skipped"; reason: string }
  | { kind: "busy"; retryInMs: number }
  | { kind: "recheck" }
  | { kind: "parked"; reason: WaitReason; untilMs: number | null; detail: string }
  | { kind: "retry"; delaySeconds: number; error: unknown }
  | { kind: "failed"; reason: string }
  /** The labels ask for a size the operator does not allow (src/jobs/sizing.ts). */
  | { kind: "refused"; reason: string };

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withHints(message: JobMessage, hints: MessageHints): JobMessage {
  const merged = { ...message.hints, ...hints };
  if (hints.pacing === undefined) delete merged.pacing;
  return { ...message, hints: merged };
}

export async function dispatchJob(deps: DispatchDeps, message: JobMessage): Promise<DispatchResult> {
  const { config, github, sandboxes, ledger, now } = deps;
  const { job, receivedAt } = message;
  const started = now();
  // Before the claim: a refused job registers nothing and takes no slot.
  const sizing = sizeJob(job.labels, config.runner.sizing);
  if (!sizing.ok) return await refuseJob(deps, message, sizing.refusal);
  const { size } = sizing;
  // What the ledger prices the sandbox at (src/status/report.ts); an adopted sandbox was made from the same labels.
  const sandboxSize = sandboxSizeOf(size);
  const claim = await ledger.claim({
    job,
    receivedAt,
    now: started,
    leaseMs: deps.leaseMs,
    limits: {
      maxRunners: config.runner.maxPerOwner,
      runnerLifetimeMs: config.runner.sizing.maxTimeoutSeconds * 1000,
    },
    message,
    paused: config.pacing.paused,
  });
  if (claim.outcome === "skip") return { kind: "skipped", reason: claim.reason };
  if (claim.outcome === "busy") return { kind: "busy", retryInMs: claim.retryInMs };
  if (claim.outcome === "recheck") return { kind: "recheck" };
  if (claim.outcome === "parked") {
    return claim.reason === "cap"
      ? {
          kind: "parked",
          reason: "cap",
          untilMs: null,
          detail: `the owner is at MAX_RUNNERS_PER_OWNER (${claim.liveRunners} of ${claim.maxRunners} live)`,
        }
      : { kind: "parked", reason: "paused", untilMs: null, detail: "dispatch is paused" };
  }

  const { runnerName } = claim;
  const log = deps.log.child({ jobId: job.id, runnerName, repository: job.repository });
  const scope = runnerScopeForRepository(config.github.runnerScope, job.repository);
  let registeredRunnerId: number | undefined;
  let resolvedAppId: string | undefined;
  let probe: { credential: string; generation: number | undefined } | undefined;

  const park = async (reason: ParkInput["reason"], untilMs: number, detail: string, hints: MessageHints) => {
    const until = untilMs + Math.floor(deps.random() * WAKE_JITTER_MS);
    await ledger.park({
      jobId: job.id,
      reason,
      until,
      detail,
      now: now(),
      message: withHints(message, hints),
      runnerName,
      fresh: !claim.resumed && registeredRunnerId === undefined,
    });
    log.info("job waits in the ledger", { reason, detail, wakeInMs: until - now() });
    return { kind: "parked" as const, reason, untilMs: until, detail };
  };

  try {
    // 1. Modal app and image: cached in the isolate and the ledger, so usually no call at all.
    const fresh: CacheEntry[] = [];
    const cached = async (entry: { key: string; ttlMs: number }, load: () => Promise<string>) => {
      const value = await deps.cache.getOrLoad(entry.key, async () => {
        const stored = claim.cache[entry.key];
        if (stored !== undefined) return { value: stored, ttlMs: LEDGER_COPY_TTL_MS };
        return { value: await load(), ttlMs: entry.ttlMs };
      });
      // Each owner's ledger keeps its own copy (its reconciler reads the app id from it): once per owner a day.
      if (claim.cache[entry.key] !== value) fresh.push({ ...entry, value });
      return value;
    };
    const image =
      size.image ??
      (await resolveRunnerImage(config, () =>
        cached(cacheKeys.runnerVersion, async () => (await github.getLatestRunnerRelease()).version),
      ));
    const { appName, environment } = config.modal;
    const appKey = cacheKeys.app(appName, environment);
    const appId = await cached(appKey, () => sandboxes.ensureApp(appName, environment));
    resolvedAppId = appId;
    const imageKey = cacheKeys.image(appId, image);
    const imageId = await cached(imageKey, () => sandboxes.ensureImage(appId, image));
    if (fresh.length > 0) await ledger.putCache(fresh, now());

    // 2. After an interrupted attempt, a sandbox may already be running for this runner name: keep it.
    if (claim.resumed) {
      const [existing] = await sandboxes.listRunners(appId, { "runner-name": runnerName });
      if (existing !== undefined) {
        await ledger.recordStarted({
          jobId: job.id,
          runnerName,
          runnerId: null,
          sandboxId: existing.sandboxId,
          jitIssuedAt: null,
          sandboxCreatedAt: existing.createdAt,
          size: sandboxSize,
          now: now(),
        });
        log.info("runner adopted", {
          sandboxId: existing.sandboxId,
          reason: "sandbox from an earlier attempt",
        });
        return { kind: "started", runnerName, runnerId: null, sandboxId: existing.sandboxId, adopted: true };
      }
    }

    // 3. The credential's pace: GitHub's secondary limits are per credential, so is the bucket.
    const credential = await github.credentialKey();
    const grant = await deps.budget(credential).take({
      now: now(),
      rate: jitRate(config),
      ...(message.hints?.pacing === undefined ? {} : { reservation: message.hints.pacing }),
    });
    if (!grant.granted) {
      return await park(
        "rate_limited",
        grant.reservation.slot,
        grant.reason === "limited"
          ? "GitHub announced a rate limit for this credential"
          : "JIT registrations are paced (JIT_RATE_PER_HOUR, JIT_BURST)",
        { pacing: grant.reservation },
      );
    }
    if (grant.probe) probe = { credential, generation: grant.generation };
    if (grant.notBefore !== undefined && grant.notBefore > now()) {
      await deps.sleep(grant.notBefore - now());
      // A limit announced while we waited holds us too.
      if (!(await deps.budget(credential).clear(now()))) {
        return await park("rate_limited", now(), "GitHub announced a rate limit for this credential", {});
      }
    }

    // 4. A single-use runner registration.
    const jit = await github.generateJitConfig({
      scope,
      name: runnerName,
      labels: job.labels,
      runnerGroupId: config.github.runnerGroupId,
      workFolder: "_work",
    });
    if (probe !== undefined) await deps.budget(probe.credential).probeDone(probe.generation);
    probe = undefined;
    const jitIssuedAt = now();
    if (jit.kind === "already_running") {
      await ledger.recordStarted({
        jobId: job.id,
        runnerName,
        runnerId: jit.runnerId,
        sandboxId: null,
        jitIssuedAt: null,
        sandboxCreatedAt: jitIssuedAt,
        size: sandboxSize,
        now: jitIssuedAt,
      });
      log.info("runner adopted", { runnerId: jit.runnerId, reason: "runner already online" });
      return { kind: "started", runnerName, runnerId: jit.runnerId, sandboxId: null, adopted: true };
    }
    registeredRunnerId = jit.runnerId;

    // 5. The sandbox. The JIT config travels only in the secret environment, never in arguments or tags.
    const sandbox = await startRunnerForgettingStaleIds(deps, [appKey.key, imageKey.key], {
      appId,
      imageId,
      name: runnerName,
      command: RUNNER_COMMAND,
      env: { ACTIONS_RUNNER_INPUT_JITCONFIG: jit.encodedJitConfig, RUNNER_ALLOW_RUNASROOT: "1" },
      cpu: size.cpu,
      memoryMiB: size.memoryMiB,
      timeoutSeconds: size.timeoutSeconds,
      tags: {
        "job-id": String(job.id),
        repository: job.repository,
        owner: job.owner.toLowerCase(),
        "runner-name": runnerName,
      },
      ...(size.gpu === undefined ? {} : { gpu: size.gpu }),
      ...(size.regions === undefined ? {} : { regions: size.regions }),
    });
    const sandboxCreatedAt = now();
    await ledger.recordStarted({
      jobId: job.id,
      runnerName,
      runnerId: jit.runnerId,
      sandboxId: sandbox.sandboxId,
      jitIssuedAt,
      sandboxCreatedAt,
      size: sandboxSize,
      now: sandboxCreatedAt,
    });
    log.info("runner started", {
      runnerId: jit.runnerId,
      sandboxId: sandbox.sandboxId,
      alreadyStarted: sandbox.alreadyStarted,
      attempt: claim.attempt,
      dispatchReason: claim.reason,
      msQueued: started - receivedAt,
      msJit: jitIssuedAt - started,
      msSandbox: sandboxCreatedAt - jitIssuedAt,
      msTotal: sandboxCreatedAt - receivedAt,
    });
    return {
      kind: "started",
      runnerName,
      runnerId: jit.runnerId,
      sandboxId: sandbox.sandboxId,
      adopted: sandbox.alreadyStarted,
    };
  } catch (error) {
    await deps.reportLimits();
    const rateLimited = error instanceof UpstreamError && error.reason === "rate_limited";
    if (probe !== undefined && !rateLimited) await deps.budget(probe.credential).probeDone(probe.generation);
    const settlement = settle(error, {
      kind: "dispatch",
      attempts: deps.attempts,
      now: now(),
      random: deps.random,
      pat: config.github.auth.kind === "token",
      unauthenticatedRechecked: message.hints?.unauthenticatedRechecked === true,
    });
    if (settlement.action === "retry") {
      await ledger.release(job.id, describe(error), now());
      return { kind: "retry", delaySeconds: settlement.delaySeconds, error };
    }
    if (settlement.action === "park") {
      return await park(settlement.reason, settlement.untilMs, describe(error), {
        ...(settlement.reason === "unauthenticated" ? { unauthenticatedRechecked: true } : {}),
      });
    }
    // Nothing may stay registered for a job we give up on: deregister (and terminate), then fail.
    const reason = describe(error);
    if (registeredRunnerId !== undefined) {
      try {
        const known = resolvedAppId;
        const appId = async () =>
          known ?? sandboxes.ensureApp(config.modal.appName, config.modal.environment);
        const outcome = await retireRunner(
          { github, sandboxes, appId, scopeKind: config.github.runnerScope, log },
          { runnerName, repository: job.repository, runnerId: registeredRunnerId, sandboxId: null },
        );
        if (outcome.kind === "retired") await ledger.runnerRemoved(runnerName, now());
      } catch (cleanup) {
        // The reconciler removes it: a failed job's runners are marked for removal.
        log.warn("runner could not be removed now", { ...errorFields(cleanup) });
      }
    }
    const { release } = await ledger.fail(job.id, reason, now());
    await deps.requeue(release);
    log.error("dispatch failed", { ...errorFields(error) });
    return { kind: "failed", reason };
  }
}

/**
 * Modal answers NOT_FOUND when a cached app or image id no longer exists (an app was deleted, say). That is not
 * the job's fault: forget the ids and retry, and the next attempt looks them up afresh.
 */
async function startRunnerForgettingStaleIds(
  deps: DispatchDeps,
  keys: string[],
  spec: RunnerSandboxSpec,
): Promise<StartedSandbox> {
  try {
    return await deps.sandboxes.startRunner(spec);
  } catch (error) {
    if (!(error instanceof PermanentError) || error.grpcCode !== GRPC_NOT_FOUND) throw error;
    for (const key of keys) deps.cache.delete(key);
    await deps.ledger.dropCache(keys);
    throw new RetryableError(`${error.message} (cached Modal ids dropped)`, {
      service: error.service,
      operation: error.operation,
      reason: "stale_id",
      cause: error,
    });
  }
}
