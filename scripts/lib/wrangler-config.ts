/**
 * What the operator scripts need from wrangler.toml: the Worker's name, its account (if pinned) and every queue
 * it binds. Read from the file wrangler itself deploys, so the names are never written down twice.
 */
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import * as z from "zod/mini";

const WranglerTomlSchema = z.object({
  name: z.string().check(z.minLength(1)),
  account_id: z.optional(z.string()),
  queues: z.optional(
    z.object({
      producers: z.optional(z.array(z.object({ queue: z.string() }))),
      consumers: z.optional(
        z.array(z.object({ queue: z.string(), dead_letter_queue: z.optional(z.string()) })),
      ),
    }),
  ),
});

export interface WorkerConfig {
  name: string;
  accountId: string | undefined;
  /** Producer, consumer and dead-letter queues, each once, in the order the file names them. */
  queues: string[];
}

export function readWorkerConfig(path = "wrangler.toml"): WorkerConfig {
  const parsed = WranglerTomlSchema.safeParse(parse(readFileSync(path, "utf8")));
  if (!parsed.success)
    throw new Error(`${path} has no usable name or queues: ${z.prettifyError(parsed.error)}`);
  const { name, account_id: accountId, queues } = parsed.data;
  const names = [
    ...(queues?.producers ?? []).map((producer) => producer.queue),
    ...(queues?.consumers ?? []).flatMap((consumer) =>
      consumer.dead_letter_queue === undefined
        ? [consumer.queue]
        : [consumer.queue, consumer.dead_letter_queue],
    ),
  ];
  return { name, accountId, queues: [...new Set(names)] };
}
