/**
 * The Queue consumer. Each message is settled on its own — ack, or retry with its own delay — so one bad job never
 * holds up or replays a batch. Unparseable messages are logged and acknowledged: retrying them cannot help.
 */
import { describeProblems, type DispatchConfig, loadConfig, secretValues } from "../config.ts";
import { UpstreamError } from "../errors.ts";
import { type JobMessage, JobMessageSchema } from "../jobs/message.ts";
import { ledgerFor } from "../ledger/job-ledger.ts";
import { createLogger, errorFields, type LogSink } from "../log.ts";
import { retryDelaySeconds } from "./backoff.ts";
import { handleDeadLetter } from "./dead-letter.ts";
import { dispatchJob } from "./dispatch-job.ts";
import { createIsolateCache } from "./isolate-cache.ts";
import { recordLifecycle } from "./lifecycle.ts";
import { createServices, type Services } from "./services.ts";

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
  const services = new WeakMap<DispatchConfig, Services>();

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
      if (!config.dispatch.ok) {
        // Never dropped: the job waits on the queue until an operator fixes the variables.
        const delaySeconds = retryDelaySeconds({
          attempts: message.attempts,
          baseSeconds: 60,
          capSeconds: 3600,
          random,
        });
        mlog.error("dispatch is not configured; the job stays queued", {
          problems: describeProblems(config.dispatch.problems),
          delaySeconds,
        });
        message.retry({ delaySeconds });
        return;
      }
      const dispatch = config.dispatch.value;
      const ledger = ledgerFor(env.LEDGER, body.job.owner);
      const requeue = async (messages: JobMessage[]) => {
        if (messages.length === 0) return;
        await env.JOBS_QUEUE.sendBatch(messages.map((released) => ({ body: released, contentType: "json" })));
        mlog.info("parked jobs sent back to the queue", {
          jobIds: messages.map((released) => String(released.job.id)),
        });
      };
      try {
        if (body.kind !== "job.queued" && !deadLetter) {
          await recordLifecycle(ledger, body, now(), mlog, requeue);
          message.ack();
          return;
        }
        let built = services.get(dispatch);
        if (built === undefined) {
          built = createServices(dispatch, { fetch: doFetch, now, logger: log });
          services.set(dispatch, built);
        }
        const github = built.github.forInstallation(body.job.installationId);
        const deps = {
          config: dispatch,
          github,
          sandboxes: built.sandboxes,
          ledger,
          now,
          log: mlog,
          requeue,
        };
        if (deadLetter) {
          await handleDeadLetter(deps, body, message.attempts);
          message.ack();
          return;
        }
        const result = await dispatchJob(
          { ...deps, cache, leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS },
          body,
        );
        if (result.kind === "busy") {
          const delaySeconds = Math.ceil(result.retryInMs / 1000) + 1;
          mlog.info("job is being dispatched by another attempt; checking back later", { delaySeconds });
          message.retry({ delaySeconds });
          return;
        }
        if (result.kind === "skipped") mlog.info("job skipped", { reason: result.reason });
        if (result.kind === "parked") {
          mlog.info("job parked: the owner is at MAX_RUNNERS_PER_OWNER", {
            liveRunners: result.liveRunners,
            maxRunners: result.maxRunners,
          });
        }
        message.ack();
      } catch (error) {
        const delaySeconds = retryDelaySeconds({
          attempts: message.attempts,
          retryAfterSeconds: error instanceof UpstreamError ? error.retryAfterSeconds : undefined,
          random,
        });
        mlog.warn("attempt failed; will retry", { ...errorFields(error), delaySeconds });
        message.retry({ delaySeconds });
      }
    };

    await Promise.all(batch.messages.map(handle));
  };
}
