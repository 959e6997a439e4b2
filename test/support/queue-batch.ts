/**
 * One invocation of a queue consumer, as the Queue makes it, with a batch made in the test (`createMessageBatch`),
 * and how the consumer settled each message. cloudflare:test's `getQueueResult` says which messages were retried
 * but not after what delay, which is part of what the consumer tells the Queue: each message handed to the consumer
 * notes the options of its `retry` before passing the call on to the real message.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";

export type QueueConsumer = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

/**
 * What `getQueueResult` reports, typed here: its declared type (`FetcherQueueResult`) is missing from the Workers
 * types this project builds against, so it would read as `any`.
 */
interface QueueResult {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean };
  explicitAcks: string[];
  retryMessages: { msgId: string }[];
}

/** How the consumer settled the batch; each retried message with the delay it asked for (undefined: the queue's). */
export interface BatchOutcome extends Omit<QueueResult, "retryMessages"> {
  retryMessages: { msgId: string; delaySeconds: number | undefined }[];
}

export interface BatchOptions {
  queue?: string | undefined;
  /** Which delivery of each message this is (1 = the first). */
  attempts?: number | undefined;
}

export async function consumeBatch(
  consumer: QueueConsumer,
  bodies: unknown[],
  workerEnv: Env,
  options: BatchOptions = {},
): Promise<BatchOutcome> {
  const batch = createMessageBatch(
    options.queue ?? "actions-on-modal-jobs",
    bodies.map((body) => ({
      id: crypto.randomUUID(),
      timestamp: new Date(),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  const delays = new Map<string, number | undefined>();
  const messages = batch.messages.map(
    (message): Message<unknown> => ({
      id: message.id,
      timestamp: message.timestamp,
      body: message.body,
      attempts: message.attempts,
      ack: () => message.ack(),
      retry: (retryOptions) => {
        delays.set(message.id, retryOptions?.delaySeconds);
        message.retry(retryOptions);
      },
    }),
  );
  const noting: MessageBatch<unknown> = {
    messages,
    queue: batch.queue,
    metadata: batch.metadata,
    retryAll: (retryOptions) => batch.retryAll(retryOptions),
    ackAll: () => batch.ackAll(),
  };
  const ctx = createExecutionContext();
  await consumer(noting, workerEnv, ctx);
  const result: QueueResult = await getQueueResult(batch, ctx);
  return {
    ...result,
    retryMessages: result.retryMessages.map((retried) => ({
      ...retried,
      delaySeconds: delays.get(retried.msgId),
    })),
  };
}
