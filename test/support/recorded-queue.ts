/**
 * Reads what the real local Queue delivered to test/support/queue-recorder.js. A barrier message makes "nothing
 * was queued" assertable without sleeping: once the barrier sent after a request has arrived, anything that
 * request queued has arrived too (the local queue delivers in order).
 */
import { env } from "cloudflare:workers";

interface Recorded {
  id: string;
  body: unknown;
}

async function received(): Promise<Recorded[]> {
  const response = await env.QUEUE_RECORDER.fetch("https://recorder/");
  return response.json();
}

function deliveryOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const value: unknown = Reflect.get(body, "deliveryId");
  return typeof value === "string" ? value : undefined;
}

/** Waits until every message queued so far has been delivered, then returns those of `deliveryId`. */
export async function queuedFor(deliveryId: string, timeoutMs = 5000): Promise<unknown[]> {
  const barrier = crypto.randomUUID();
  await env.RECORDED_QUEUE.send({ deliveryId: `barrier-${barrier}` }, { contentType: "json" });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await received();
    if (all.some((message) => deliveryOf(message.body) === `barrier-${barrier}`)) {
      return all.filter((message) => deliveryOf(message.body) === deliveryId).map((message) => message.body);
    }
    if (Date.now() > deadline) throw new Error("the queue did not deliver the barrier in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
