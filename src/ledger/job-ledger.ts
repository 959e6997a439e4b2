/**
 * The ledger: a SQLite-backed Durable Object holding, per repository owner, every job and every runner we started
 * (see `ledgerFor`). Every job of an owner goes through one strongly consistent object, so a job id is claimed
 * once however many times GitHub or the Queue deliver it, while owners never wait on each other.
 *
 * It is also the owner's reconciler: each job and runner carries its next deadline (`check_at`), waiting jobs their
 * due time (`wake_at`), and the object's alarm is set to the earliest of them. When it fires, due jobs go back to
 * the queue and `runOwnerCycle` (src/reconcile/) compares what is due with GitHub and Modal and repairs. An owner
 * with nothing in flight has no alarm and costs no call.
 *
 * Limits of that choice: one object serializes its owner's jobs (a few ms of SQLite work each, so some hundreds per
 * second per owner), and per-owner caches (Modal app and image ids, runner version) are filled once per owner.
 */
import { DurableObject } from "cloudflare:workers";
import type { DispatchConfig } from "../config/dispatch.ts";
import { loadConfig, secretValues } from "../config.ts";
import { cacheKeys } from "../dispatch/isolate-cache.ts";
import { createRateLimitTracker, type RateLimitTracker } from "../dispatch/rate-limits.ts";
import { createServices, type Services } from "../dispatch/services.ts";
import { type JobMessage, JobMessageSchema, type QueuedJob } from "../jobs/message.ts";
import { createLogger } from "../log.ts";
import { type CycleReport, emptyReport, runOwnerCycle, SWEEP_INTERVAL_MS } from "../reconcile/owner-cycle.ts";
import { capWaiting, liveRunners, type RunnerLimits, takeReleasable } from "./capacity.ts";
import { controlFor } from "./control.ts";
import { budgetFor } from "./github-budget.ts";
import type { JobState } from "./job-state.ts";
import {
  claimJob,
  type Deadlines,
  failJob,
  getJob,
  type LifecycleOutcome,
  parkForConfig,
  parkJob,
  recordLifecycle,
  recordStarted,
  refuseJob,
  releaseLease,
} from "./jobs.ts";
import { getMeta, getMetaNumber, setMeta } from "./meta.ts";
import { nextWake, releasePaused, takeDue } from "./parking.ts";
import { DAY_MS, type DailyRow, dailyRows, prune } from "./retention.ts";
import { JOB_COLUMNS, toJobRecord } from "./rows.ts";
import { runnersInFlight, runnersOfJob } from "./runners.ts";
import { migrate } from "./schema.ts";
import { LedgerStore } from "./store.ts";
import { type OwnerSummary, summarize } from "./summary.ts";
import type {
  CacheEntry,
  ClaimInput,
  ClaimResult,
  JobRecord,
  LifecycleInput,
  ParkInput,
  RunnerRecord,
  StartedInput,
} from "./types.ts";

const LIMITS_KEY = "limits";
const OWNER_KEY = "owner";
const RETENTION_KEY = "retention_at";
/** Set once the control object lists this owner (and the ledger took over any pause in force then). */
const REGISTERED_KEY = "registered";
/** How often jobs waiting for a slot are looked at when no completion freed one. */
const CAP_RECHECK_MS = 60_000;
const DEFAULT_DEADLINES: Deadlines = {
  stuckMs: 180_000,
  orphanGraceMs: 600_000,
  runnerLifetimeMs: 3_600_000,
};

function deadlinesOf(config: DispatchConfig | undefined): Deadlines {
  if (config === undefined) return DEFAULT_DEADLINES;
  return {
    stuckMs: config.lifecycle.stuckJobSeconds * 1000,
    orphanGraceMs: config.lifecycle.orphanGraceSeconds * 1000,
    // The longest a job may ask for: a sandbox is not taken for dead before its own timeout.
    runnerLifetimeMs: config.runner.sizing.maxTimeoutSeconds * 1000,
  };
}

export class JobLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly store: LedgerStore;
  private limitsText: string | undefined;
  private services: { config: DispatchConfig; built: Services; tracker: RateLimitTracker } | undefined;
  private appId: Promise<string> | undefined;
  /**
   * The alarm's clock: the time its cycle runs at and the earliest its next alarm may be set for. The real clock;
   * a test sets another on the instance (`runInDurableObject`) before it runs the alarm (`runDurableObjectAlarm`).
   */
  now: () => number = Date.now;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql);
    this.store = new LedgerStore(this.sql, deadlinesOf(this.dispatchConfig()));
    this.limitsText = getMeta(this.sql, LIMITS_KEY);
  }

  private dispatchConfig(): DispatchConfig | undefined {
    const config = loadConfig(this.env);
    return config.dispatch.ok ? config.dispatch.value : undefined;
  }

  private rememberOwner(owner: string): void {
    if (getMeta(this.sql, OWNER_KEY) === undefined) setMeta(this.sql, OWNER_KEY, owner.toLowerCase());
  }

  /** Stored only when it changes: a claim must not rewrite a row every time. */
  private rememberLimits(limits: RunnerLimits): void {
    const text = JSON.stringify(limits);
    if (text === this.limitsText) return;
    this.limitsText = text;
    setMeta(this.sql, LIMITS_KEY, text);
  }

  private limits(): RunnerLimits | undefined {
    if (this.limitsText === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(this.limitsText);
      if (typeof value !== "object" || value === null) return undefined;
      const maxRunners: unknown = Reflect.get(value, "maxRunners");
      const runnerLifetimeMs: unknown = Reflect.get(value, "runnerLifetimeMs");
      return (typeof maxRunners === "number" || maxRunners === null) && typeof runnerLifetimeMs === "number"
        ? { maxRunners, runnerLifetimeMs }
        : undefined;
    } catch {
      return undefined;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Dispatch (called by the queue consumer).

  async claim(input: ClaimInput): Promise<ClaimResult> {
    this.rememberOwner(input.job.owner);
    if (getMeta(this.sql, REGISTERED_KEY) !== "true") {
      // This ledger's first claim (one call in its lifetime): a pause set before it applies to this owner too.
      const owner = getMeta(this.sql, OWNER_KEY) ?? input.job.owner.toLowerCase();
      if (await controlFor(this.env.CONTROL).enroll(owner, input.now)) setMeta(this.sql, "paused", "true");
      setMeta(this.sql, REGISTERED_KEY, "true");
    }
    this.rememberLimits(input.limits);
    const result = claimJob(this.sql, { ...input, paused: input.paused === true || this.isPaused() });
    if (result.outcome === "dispatch") {
      const { [LIMITS_KEY]: _limits, ...cache } = this.cacheEntries(input.now);
      await this.schedule(input.now);
      return { ...result, cache };
    }
    await this.schedule(input.now);
    return result;
  }

  async recordStarted(input: StartedInput): Promise<void> {
    recordStarted(this.sql, input, this.store.deadlines);
    await this.schedule(input.now);
  }

  release(jobId: number, error: string, now: number): void {
    releaseLease(this.sql, jobId, error, now);
  }

  /** Dispatch gave up for good; returns the record and the jobs a freed slot lets through. */
  async fail(
    jobId: number,
    reason: string,
    now: number,
  ): Promise<{ record: JobRecord | undefined; release: JobMessage[] }> {
    const record = failJob(this.sql, jobId, reason, now);
    const release = this.releasable(now);
    await this.schedule(now);
    return { record, release };
  }

  /** The job's labels ask for what the operator does not allow (see `refuseJob`). */
  async refuse(input: {
    job: QueuedJob;
    receivedAt: number;
    message: JobMessage;
    reason: string;
    now: number;
  }): Promise<{ first: boolean; state: JobState }> {
    this.rememberOwner(input.job.owner);
    const result = refuseJob(this.sql, input);
    await this.schedule(input.now);
    return result;
  }

  /** A runner the caller removed itself (deregistered, then terminated). */
  runnerRemoved(runnerName: string, now: number): void {
    this.store.runnerGone(runnerName, now);
  }

  /** The job waits here (a rate limit, a credential re-check, Modal busy) instead of spending queue retries. */
  async park(input: ParkInput & { runnerName?: string; fresh?: boolean }): Promise<void> {
    this.rememberOwner(input.message.job.owner);
    parkJob(this.sql, input);
    await this.schedule(input.now);
  }

  /** Dispatch is not configured: the job waits here until it is. */
  async parkForConfig(message: JobMessage, detail: string, now: number): Promise<void> {
    this.rememberOwner(message.job.owner);
    parkForConfig(this.sql, message, detail, now);
    await this.schedule(now);
  }

  async recordLifecycle(input: LifecycleInput): Promise<LifecycleOutcome & { release: JobMessage[] }> {
    this.rememberOwner(input.job.owner);
    const outcome = recordLifecycle(this.sql, input, this.store.deadlines);
    const release = input.kind === "job.completed" ? this.releasable(input.now) : [];
    await this.schedule(input.now);
    return { ...outcome, release };
  }

  putCache(entries: CacheEntry[], now: number): void {
    for (const entry of entries) {
      this.sql.exec(
        "INSERT INTO cache (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        entry.key,
        entry.value,
        now + entry.ttlMs,
      );
    }
  }

  dropCache(keys: string[]): void {
    for (const key of keys) this.sql.exec("DELETE FROM cache WHERE key = ?", key);
  }

  private cacheEntries(now: number): Record<string, string> {
    const entries: Record<string, string> = {};
    for (const row of this.sql.exec<{ key: string; value: string }>(
      "SELECT key, value FROM cache WHERE expires_at > ?",
      now,
    )) {
      entries[row.key] = row.value;
    }
    return entries;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Waking and reconciling.

  /** Jobs waiting for a slot that now fit. */
  private releasable(now: number): JobMessage[] {
    const limits = this.limits();
    if (limits === undefined || capWaiting(this.sql) === 0) return [];
    return takeReleasable(this.sql, now, limits).flatMap((text) => parse(text));
  }

  private async send(messages: { body: JobMessage; delaySeconds?: number }[]): Promise<void> {
    for (let start = 0; start < messages.length; start += 100) {
      await this.env.JOBS_QUEUE.sendBatch(
        messages.slice(start, start + 100).map((message) => ({
          body: fromLedger(message.body),
          contentType: "json" as const,
          ...(message.delaySeconds === undefined || message.delaySeconds <= 0
            ? {}
            : { delaySeconds: message.delaySeconds }),
        })),
      );
    }
  }

  /**
   * What is due now — timed waits, jobs a free slot lets through — marked as released (sent again if not claimed
   * within a minute). The alarm sends them; a test driving time itself takes them here.
   */
  releaseDue(now: number): { body: JobMessage; delaySeconds?: number }[] {
    const due = takeDue(this.sql, now).flatMap((item) =>
      parse(item.message).map((body) => ({ body: fromLedger(body), delaySeconds: item.delaySeconds })),
    );
    return [...due, ...this.releasable(now).map((body) => ({ body: fromLedger(body) }))];
  }

  private async wake(now: number): Promise<number> {
    const due = this.releaseDue(now);
    await this.send(due);
    return due.length;
  }

  private servicesFor(config: DispatchConfig) {
    if (this.services?.config !== config) {
      const logger = createLogger({ secrets: secretValues(this.env) }).child({
        ledger: getMeta(this.sql, OWNER_KEY),
      });
      const tracker = createRateLimitTracker();
      const built = createServices(config, {
        fetch: (input, init) => fetch(input, init),
        now: Date.now,
        logger,
        onRateLimit: tracker.onRateLimit,
      });
      this.services = { config, built, tracker };
      this.appId = undefined;
    }
    return this.services;
  }

  /**
   * One reconcile cycle now (the alarm's work, also callable by an operator or a test with an injected time).
   * Never throws: a failed cycle is logged and its deadlines stay, so the alarm comes back.
   */
  async reconcile(options: { now?: number } = {}): Promise<CycleReport & { woken: number }> {
    const now = options.now ?? this.now();
    const woken = await this.wake(now);
    const retentionAt = getMetaNumber(this.sql, RETENTION_KEY) ?? 0;
    const config = this.dispatchConfig();
    if (retentionAt <= now && config !== undefined) {
      const pruned = prune(this.sql, now, config.lifecycle.retentionDays * DAY_MS);
      setMeta(this.sql, RETENTION_KEY, String(now + (pruned > 0 ? 60_000 : DAY_MS)));
    }
    const owner = getMeta(this.sql, OWNER_KEY);
    if (config === undefined || owner === undefined) {
      await this.schedule(now);
      return { ...emptyReport(), woken };
    }
    if (getMeta(this.sql, REGISTERED_KEY) !== "true") {
      // A ledger that never claimed (it adopted sandboxes, or only heard of jobs): the status page and a pause
      // find this owner through the control object too.
      if (await controlFor(this.env.CONTROL).enroll(owner, now)) setMeta(this.sql, "paused", "true");
      setMeta(this.sql, REGISTERED_KEY, "true");
    }
    const { built, tracker } = this.servicesFor(config);
    const log = createLogger({ secrets: secretValues(this.env) }).child({ owner });
    const report = await runOwnerCycle({
      owner,
      store: this.store,
      lifecycle: config.lifecycle,
      scopeKind: config.github.runnerScope,
      github: built.github,
      sandboxes: built.sandboxes,
      appId: () => {
        // Dispatch keeps the app's id in this ledger's cache: usually no call at all.
        const cached =
          this.cacheEntries(now)[cacheKeys.app(config.modal.appName, config.modal.environment).key];
        if (cached !== undefined) return Promise.resolve(cached);
        this.appId ??= built.sandboxes
          .ensureApp(config.modal.appName, config.modal.environment)
          .catch((error) => {
            this.appId = undefined;
            throw error;
          });
        return this.appId;
      },
      grant: async (installationId, want) => {
        if (want <= 0) return 0;
        const credential = await built.github.forInstallation(installationId ?? undefined).credentialKey();
        return budgetFor(this.env.GITHUB_BUDGET, credential).grantReconcile({
          now,
          want,
          percent: config.lifecycle.reconcileBudgetPercent,
          observed: tracker.observed(credential),
        });
      },
      send: (messages) => this.send(messages),
      now,
      log,
    });
    await tracker.flush(this.env.GITHUB_BUDGET);
    await this.schedule(now);
    return { ...report, woken };
  }

  override async alarm(): Promise<void> {
    try {
      await this.reconcile();
    } catch (error) {
      // Never let the alarm fail for good: its retries end after six, and the deadlines would be orphaned.
      console.error(JSON.stringify({ level: "error", msg: "ledger alarm failed", error: String(error) }));
      await this.ctx.storage.setAlarm(this.now() + 60_000);
    }
  }

  /** Sets the alarm to the earliest deadline, if it is earlier than the one set (or none is). */
  private async schedule(now: number): Promise<void> {
    const candidates: number[] = [];
    const check = this.store.nextCheck();
    if (check !== undefined) candidates.push(check);
    const wake = nextWake(this.sql);
    if (wake !== undefined) candidates.push(wake);
    if (capWaiting(this.sql) > 0) candidates.push(now + CAP_RECHECK_MS);
    const sweep = this.store.sweepAt();
    if (sweep !== undefined) candidates.push(sweep);
    else if (runnersInFlight(this.sql, 1).length > 0) {
      this.store.setSweepAt(now + SWEEP_INTERVAL_MS);
      candidates.push(now + SWEEP_INTERVAL_MS);
    }
    if (candidates.length === 0) return;
    const next = Math.max(Math.min(...candidates), this.now());
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Operator controls and reads.

  /** `POST /api/pause` / `resume`: claims of new runners park; resume releases them, spread out. */
  async setPaused(paused: boolean, now: number): Promise<number> {
    setMeta(this.sql, "paused", paused ? "true" : "false");
    const released = paused ? 0 : releasePaused(this.sql, now);
    await this.schedule(now);
    return released;
  }

  isPaused(): boolean {
    return getMeta(this.sql, "paused") === "true";
  }

  /** What the status page shows of this owner. */
  summary(now: number): OwnerSummary {
    const limits = this.limits();
    return summarize(this.sql, {
      owner: getMeta(this.sql, OWNER_KEY) ?? "",
      paused: this.isPaused(),
      liveRunners: this.liveRunnerCount(now),
      now,
      lifetimeMs: limits?.runnerLifetimeMs ?? DEFAULT_DEADLINES.runnerLifetimeMs,
    });
  }

  /** "Terminate idle runners now" (with a pause): every runner not known to run a job is removed, deregistered
   * first — GitHub refuses for one that just took a job, which is then left alone. */
  async retireIdle(now: number): Promise<number> {
    let marked = 0;
    for (const runner of runnersInFlight(this.sql)) {
      if (runner.state !== "live") continue;
      this.store.updateRunner(runner.runnerName, now, {
        state: "retiring",
        retireReason: "an operator asked for idle runners to go",
        checkAt: now,
      });
      marked += 1;
    }
    await this.schedule(now);
    return marked;
  }

  /** Daily aggregates since `day` (YYYY-MM-DD): what is left of jobs past retention. */
  daily(day: string): DailyRow[] {
    return dailyRows(this.sql, day);
  }

  /** Which of these job ids the ledger has never seen. */
  unknownJobs(jobIds: number[]): number[] {
    return jobIds.filter((jobId) => getJob(this.sql, jobId) === undefined);
  }

  /** Sandboxes of this owner that Modal lists: those the ledger has no runner for are adopted, to be judged. */
  async adoptSandboxes(
    sandboxes: { runnerName: string; sandboxId: string; repository: string; jobId: number }[],
    now: number,
  ): Promise<number> {
    let adopted = 0;
    for (const sandbox of sandboxes) {
      if (this.store.runner(sandbox.runnerName) !== undefined) continue;
      const installationId = getJob(this.sql, sandbox.jobId)?.installationId ?? null;
      this.store.addStray({
        runnerName: sandbox.runnerName,
        jobId: sandbox.jobId,
        repository: sandbox.repository,
        installationId,
        reason: "its sandbox was found on Modal, unknown to the ledger",
        now,
      });
      this.store.updateRunner(sandbox.runnerName, now, { sandboxId: sandbox.sandboxId, checkAt: now });
      adopted += 1;
    }
    if (adopted > 0) {
      this.rememberOwner(sandboxes[0]?.repository.split("/")[0] ?? "");
      await this.schedule(now);
    }
    return adopted;
  }

  getJob(jobId: number): JobRecord | null {
    return getJob(this.sql, jobId) ?? null;
  }

  listJobs(states: JobState[], limit = 100): JobRecord[] {
    const placeholders = states.map(() => "?").join(", ");
    return this.sql
      .exec(
        `SELECT ${JOB_COLUMNS} FROM jobs WHERE state IN (${placeholders}) ORDER BY updated_at LIMIT ?`,
        ...states,
        limit,
      )
      .toArray()
      .map(toJobRecord);
  }

  runners(jobId?: number): RunnerRecord[] {
    return jobId === undefined ? runnersInFlight(this.sql) : runnersOfJob(this.sql, jobId);
  }

  liveRunnerCount(now: number): number {
    const limits = this.limits();
    return liveRunners(
      this.sql,
      now,
      limits ?? { maxRunners: null, runnerLifetimeMs: DEFAULT_DEADLINES.runnerLifetimeMs },
    );
  }
}

function fromLedger(message: JobMessage): JobMessage {
  return { ...message, hints: { ...message.hints, fromLedger: true } };
}

function parse(text: string): JobMessage[] {
  const parsed = JobMessageSchema.safeParse(JSON.parse(text));
  return parsed.success ? [parsed.data] : [];
}

/** The ledger object of a repository owner (logins are case-insensitive on GitHub). */
export function ledgerFor(
  namespace: DurableObjectNamespace<JobLedger>,
  owner: string,
): DurableObjectStub<JobLedger> {
  return namespace.get(namespace.idFromName(`owner:${owner.toLowerCase()}`));
}

export { runnerNameFor } from "./jobs.ts";
