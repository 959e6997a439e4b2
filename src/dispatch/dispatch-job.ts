/**
 * One queued job → one runner registration → one sandbox. The ledger's claim makes this happen once per job id;
 * the runner name derived from the job id makes every retry agree on what it is making, so a crash between any
 * two steps ends, after redelivery, with one runner and one sandbox:
 *
 * - fresh claim: Modal ids (cached) → JIT config → sandbox named after the runner → recorded;
 * - resumed claim (an earlier attempt stopped part-way): first look for a sandbox already running under the name
 *   and adopt it — its runner holds a valid JIT config that must not be replaced — else continue as fresh, where
 *   GitHub's 409 on the runner name resolves a registration left behind.
 *
 * Modal ids are resolved before the runner is registered, so a misconfigured Modal side never leaves runners
 * registered. Retryable failures give the lease back and are thrown for the consumer to retry; permanent ones
 * deregister what was registered and fail the job.
 */
import type { DispatchConfig } from "../config.ts";
import { PermanentError, RetryableError, UpstreamError } from "../errors.ts";
import type { GitHubClient } from "../github/client.ts";
import { type RunnerScope, runnerScopeForRepository } from "../github/scope.ts";
import type { JobMessage } from "../jobs/message.ts";
import type { JobLedger } from "../ledger/job-ledger.ts";
import type { CacheEntry } from "../ledger/types.ts";
import { errorFields, type Logger } from "../log.ts";
import type { RunnerSandboxSpec, SandboxProvider, StartedSandbox } from "../modal/provider.ts";
import { cacheKeys, type IsolateCache } from "./isolate-cache.ts";
import { resolveRunnerImage } from "./runner-image.ts";

const GRPC_NOT_FOUND = 5;

/** Where the official runner image keeps the runner. */
export const RUNNER_COMMAND = ["/home/runner/run.sh"];

export interface DispatchDeps {
  config: DispatchConfig;
  github: GitHubClient;
  sandboxes: SandboxProvider;
  ledger: DurableObjectStub<JobLedger>;
  cache: IsolateCache;
  now: () => number;
  log: Logger;
  /** How long one attempt may hold the job before another may take it over. */
  leaseMs: number;
  /** Sends parked jobs that a freed slot lets through back to the queue. */
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
  | { kind: "parked"; liveRunners: number; maxRunners: number }
  | { kind: "failed"; reason: string };

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function dispatchJob(deps: DispatchDeps, message: JobMessage): Promise<DispatchResult> {
  const { config, github, sandboxes, ledger, now } = deps;
  const { job, receivedAt } = message;
  const started = now();
  const claim = await ledger.claim({
    job,
    receivedAt,
    now: started,
    leaseMs: deps.leaseMs,
    limits: { maxRunners: config.runner.maxPerOwner, runnerLifetimeMs: config.runner.timeoutSeconds * 1000 },
    message,
  });
  if (claim.outcome === "skip") return { kind: "skipped", reason: claim.reason };
  if (claim.outcome === "busy") return { kind: "busy", retryInMs: claim.retryInMs };
  if (claim.outcome === "parked") {
    return { kind: "parked", liveRunners: claim.liveRunners, maxRunners: claim.maxRunners };
  }

  const { runnerName } = claim;
  const log = deps.log.child({ jobId: job.id, runnerName, repository: job.repository });
  const scope = runnerScopeForRepository(config.github.runnerScope, job.repository);
  let registeredRunnerId: number | undefined;

  try {
    // 1. Modal app and image: cached in the isolate and the ledger, so usually no call at all.
    const fresh: CacheEntry[] = [];
    const lookup = (key: string) => {
      const value = deps.cache.get(key);
      if (value !== undefined) return value;
      const stored = claim.cache[key];
      // The ledger's copy may be near its end of life: hold it in the isolate for a short while only.
      if (stored !== undefined) deps.cache.set({ key, value: stored, ttlMs: 60 * 60 * 1000 });
      return stored;
    };
    const remember = (entry: CacheEntry) => {
      deps.cache.set(entry);
      fresh.push(entry);
    };
    const resolved = await resolveRunnerImage(config, lookup, github);
    if (resolved.lookedUp !== undefined) remember({ ...cacheKeys.runnerVersion, value: resolved.lookedUp });
    const { appName, environment } = config.modal;
    const appKey = cacheKeys.app(appName, environment);
    let appId = lookup(appKey.key);
    if (appId === undefined) {
      appId = await sandboxes.ensureApp(appName, environment);
      remember({ ...appKey, value: appId });
    }
    const imageKey = cacheKeys.image(appId, resolved.image);
    let imageId = lookup(imageKey.key);
    if (imageId === undefined) {
      imageId = await sandboxes.ensureImage(appId, resolved.image);
      remember({ ...imageKey, value: imageId });
    }
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
          now: now(),
        });
        log.info("runner adopted", {
          sandboxId: existing.sandboxId,
          reason: "sandbox from an earlier attempt",
        });
        return { kind: "started", runnerName, runnerId: null, sandboxId: existing.sandboxId, adopted: true };
      }
    }

    // 3. A single-use runner registration.
    const jit = await github.generateJitConfig({
      scope,
      name: runnerName,
      labels: job.labels,
      runnerGroupId: config.github.runnerGroupId,
      workFolder: "_work",
    });
    const jitIssuedAt = now();
    if (jit.kind === "already_running") {
      await ledger.recordStarted({
        jobId: job.id,
        runnerName,
        runnerId: jit.runnerId,
        sandboxId: null,
        jitIssuedAt: null,
        sandboxCreatedAt: jitIssuedAt,
        now: jitIssuedAt,
      });
      log.info("runner adopted", { runnerId: jit.runnerId, reason: "runner already online" });
      return { kind: "started", runnerName, runnerId: jit.runnerId, sandboxId: null, adopted: true };
    }
    registeredRunnerId = jit.runnerId;

    // 4. The sandbox. The JIT config travels only in the secret environment, never in arguments or tags.
    const sandbox = await startRunnerForgettingStaleIds(deps, [appKey.key, imageKey.key], {
      appId,
      imageId,
      name: runnerName,
      command: RUNNER_COMMAND,
      env: { ACTIONS_RUNNER_INPUT_JITCONFIG: jit.encodedJitConfig, RUNNER_ALLOW_RUNASROOT: "1" },
      cpu: config.runner.cpu,
      memoryMiB: config.runner.memoryMiB,
      timeoutSeconds: config.runner.timeoutSeconds,
      tags: { "job-id": String(job.id), repository: job.repository, "runner-name": runnerName },
      ...(config.runner.gpu === undefined ? {} : { gpu: config.runner.gpu }),
    });
    const sandboxCreatedAt = now();
    await ledger.recordStarted({
      jobId: job.id,
      runnerName,
      runnerId: jit.runnerId,
      sandboxId: sandbox.sandboxId,
      jitIssuedAt,
      sandboxCreatedAt,
      now: sandboxCreatedAt,
    });
    log.info("runner started", {
      runnerId: jit.runnerId,
      sandboxId: sandbox.sandboxId,
      alreadyStarted: sandbox.alreadyStarted,
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
    const permanent = error instanceof UpstreamError && !error.retryable;
    if (!permanent) {
      await ledger.release(job.id, describe(error), now());
      throw error;
    }
    // Nothing may stay registered for a job we give up on.
    if (registeredRunnerId !== undefined) {
      await deregister(github, scope, registeredRunnerId, log);
    }
    const reason = describe(error);
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

async function deregister(
  github: GitHubClient,
  scope: RunnerScope,
  runnerId: number,
  log: Logger,
): Promise<void> {
  try {
    const result = await github.deleteRunner(scope, runnerId);
    log.info("runner deregistered", { runnerId, result });
  } catch (error) {
    // The job still fails; GitHub removes a JIT runner that never connected after about a day.
    log.warn("runner could not be deregistered", { runnerId, ...errorFields(error) });
  }
}
