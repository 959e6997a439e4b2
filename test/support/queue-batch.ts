/**
 * Hands messages to a queue handler as the Queue does (`createMessageBatch`) and reads how each was settled. The
 * harness's result names the retried messages but not the delay each asked for, so every message's `retry` notes
 * its delay before the harness's own runs; acks and retries still reach the harness, which `getQueueResult` reads.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";

type QueueHandler = (batch: MessageBatch, env: Env, ctx: ExecutionContext) => void | Promise<void>;

export async function runQueueBatch(
  handler: QueueHandler,
  bodies: readonly unknown[],
  workerEnv: Env,
  options: { queue?: string; attempts?: number } = {},
) {
  const batch = createMessageBatch(
    options.queue ?? "actions-on-modal-jobs",
    bodies.map((body) => ({
      id: crypto.randomUUID(),
      timestamp: new Date(),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  /** Message id → the delay its retry asked for (undefined: none given). */
  const delays = new Map<string, number | undefined>();
  const messages = batch.messages.map(
    (message): Message => ({
      id: message.id,
      timestamp: message.timestamp,
      body: message.body,
      attempts: message.attempts,
      ack: () => message.ack(),
      retry: (retry) => {
        delays.set(message.id, retry?.delaySeconds);
        message.retry(retry);
      },
    }),
  );
  const recording: MessageBatch = {
    queue: batch.queue,
    metadata: batch.metadata,
    messages,
    ackAll: () => batch.ackAll(),
    retryAll: (retry) => batch.retryAll(retry),
  };
  const ctx = createExecutionContext();
  await handler(recording, workerEnv, ctx);
  return { ...(await getQueueResult(batch, ctx)), delays: [...delays.values()] };
}
