/**
 * The Queue consumer. Each message is settled on its own — acknowledged, retried with its own delay, or left to
 * wait in the ledger — so one bad job never holds up or replays a batch. What a failure means is decided in one
 * place (settle.ts). Unparseable messages are logged and acknowledged: retrying them cannot help.
 */

import type { DispatchConfig } from "../config/dispatch.ts";
import { describeProblems, loadConfig, secretValues } from "../config.ts";
import { type JobMessage, JobMessageSchema } from "../jobs/message.ts";
import { budgetFor } from "../ledger/github-budget.ts";
import { ledgerFor } from "../ledger/job-ledger.ts";
import { createLogger, errorFields, type LogSink } from "../log.ts";
import { handleDeadLetter } from "./dead-letter.ts";
import { dispatchJob } from "./dispatch-job.ts";
import { createIsolateCache } from "./isolate-cache.ts";
import { recordLifecycle } from "./lifecycle.ts";
import { createRateLimitTracker, type RateLimitTracker } from "./rate-limits.ts";
import { createServices, type Services } from "./services.ts";
import { settle } from "./settle.ts";

export interface ConsumerOptions {
  now?: () => number;
  random?: () => number;
  fetch?: typeof fetch;
  logSink?: LogSink;
  /** How long one dispatch attempt holds a job; longer than the slowest attempt, short enough to recover fast. */
  leaseMs?: number;
}

export const DEFAULT_LEASE_MS = 120_000;

export function createQueueConsumer(options: ConsumerOptions = {}) {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const cache = createIsolateCache(now);
  const services = new WeakMap<DispatchConfig, { built: Services; tracker: RateLimitTracker }>();

  return async function queue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
    const log = createLogger({ sink: options.logSink, now, secrets: secretValues(env) }).child({
      queue: batch.queue,
    });
    const deadLetter = batch.queue.endsWith("-dlq");

    const handle = async (message: Message<unknown>) => {
      const parsed = JobMessageSchema.safeParse(message.body);
      if (!parsed.success) {
        log.warn("unparseable message acknowledged", { messageId: message.id, attempt: message.attempts });
        message.ack();
        return;
      }
      const body = parsed.data;
      const mlog = log.child({
        deliveryId: body.deliveryId,
        jobId: body.job.id,
        kind: body.kind,
        attempt: message.attempts,
      });
      const config = loadConfig(env);
      const ledger = ledgerFor(env.LEDGER, body.job.owner);
      const requeue = async (messages: JobMessage[]) => {
        if (messages.length === 0) return;
        await env.JOBS_QUEUE.sendBatch(messages.map((released) => ({ body: released, contentType: "json" })));
        mlog.info("waiting jobs sent back to the queue", {
          jobIds: messages.map((released) => String(released.job.id)),
        });
      };
      const kind = deadLetter ? "dead-letter" : body.kind === "job.queued" ? "dispatch" : "lifecycle";
      let tracker: RateLimitTracker | undefined;
      try {
        if (kind === "lifecycle") {
          // Needs only the ledger: recorded even while the dispatch variables are broken.
          await recordLifecycle(ledger, body, now(), mlog, requeue);
          message.ack();
          return;
        }
        if (!config.dispatch.ok) {
          // Never dropped, and no retry spent: the job waits in the ledger until an operator fixes the variables.
          const problems = describeProblems(config.dispatch.problems);
          if (body.kind === "job.queued") await ledger.parkForConfig(body, problems.join("; "), now());
          mlog.error("dispatch is not configured; the job waits in the ledger", { problems });
          message.ack();
          return;
        }
        const dispatch = config.dispatch.value;
        let entry = services.get(dispatch);
        if (entry === undefined) {
          const created = createRateLimitTracker();
          entry = {
            tracker: created,
            built: createServices(dispatch, {
              fetch: doFetch,
              now,
              logger: log,
              onRateLimit: created.onRateLimit,
            }),
          };
          services.set(dispatch, entry);
        }
        tracker = entry.tracker;
        const github = entry.built.github.forInstallation(body.job.installationId);
        const deps = {
          config: dispatch,
          github,
          sandboxes: entry.built.sandboxes,
          ledger,
          now,
          log: mlog,
          requeue,
        };
        if (kind === "dead-letter") {
          await handleDeadLetter(deps, body, message.attempts);
          message.ack();
          return;
        }
        const reportLimits = () => entry.tracker.flush(env.GITHUB_BUDGET);
        const result = await dispatchJob(
          {
            ...deps,
            cache,
            random,
            sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
            attempts: message.attempts,
            leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
            budget: (credential) => budgetFor(env.GITHUB_BUDGET, credential),
            reportLimits,
          },
          body,
        );
        switch (result.kind) {
          case "busy": {
            const delaySeconds = Math.ceil(result.retryInMs / 1000) + 1;
            mlog.info("job is being dispatched by another attempt; checking back later", { delaySeconds });
            message.retry({ delaySeconds });
            return;
          }
          case "retry":
            mlog.warn("attempt failed; will retry", {
              ...errorFields(result.error),
              delaySeconds: result.delaySeconds,
            });
            message.retry({ delaySeconds: result.delaySeconds });
            return;
          case "skipped":
            mlog.info("job skipped", { reason: result.reason });
            break;
          case "recheck":
            mlog.info("job already has a runner; the reconciler re-checks it now");
            break;
          case "parked":
            mlog.info("job parked", { reason: result.reason, detail: result.detail });
            break;
          case "refused":
            // Logged with its reason where it was refused; acknowledged: a retry would refuse it again.
            break;
          default:
            break;
        }
        message.ack();
      } catch (error) {
        // Outside dispatch's own handling: the ledger or the budget object failed, or a bug. Never parked (the
        // ledger may be what failed); retried or acknowledged by the error's own flag.
        const settlement = settle(error, {
          kind: kind === "dispatch" ? "lifecycle" : kind,
          attempts: message.attempts,
          now: now(),
          random,
          pat: false,
          unauthenticatedRechecked: true,
        });
        if (settlement.action === "retry") {
          mlog.warn("attempt failed; will retry", {
            ...errorFields(error),
            delaySeconds: settlement.delaySeconds,
          });
          message.retry({ delaySeconds: settlement.delaySeconds });
        } else {
          mlog.warn("message acknowledged after a permanent error", errorFields(error));
          message.ack();
        }
      } finally {
        if (tracker !== undefined && config.dispatch.ok) await tracker.flush(env.GITHUB_BUDGET);
      }
    };

    await Promise.all(batch.messages.map(handle));
  };
}
