/**
 * `POST /webhook`: the only work on the request path is to check, filter and enqueue — GitHub gives a delivery
 * 10 seconds. Order matters: size, then signature over the raw bytes, then headers, then parsing. Every genuine
 * delivery we choose to ignore gets a 2xx, because anything else shows as a failed delivery on GitHub.
 */
import type { Context } from "hono";
import { describeProblems, loadConfig } from "../config.ts";
import { messageKind, toJobMessage } from "../jobs/message.ts";
import { decide } from "../jobs/policy.ts";
import { WorkflowJobPayloadSchema } from "../jobs/workflow-job.ts";
import { controlFor } from "../ledger/control.ts";
import { errorFields, type LogFields } from "../log.ts";
import { readBody } from "./body.ts";
import type { AppEnv, AppOptions } from "./context.ts";
import { firstSighting, hookSighting } from "./hooks.ts";
import { rememberOwner } from "./owners.ts";
import { checkSignature } from "./signature.ts";

type Payload = { ok: true; text: string } | { ok: false; status: 400 | 415; error: string };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decodePayload(contentType: string | undefined, bytes: Uint8Array): Payload {
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, status: 400, error: "body is not UTF-8" };
  }
  if (mediaType === "application/json") return { ok: true, text };
  if (mediaType === "application/x-www-form-urlencoded") {
    const payload = new URLSearchParams(text).get("payload");
    if (payload === null) return { ok: false, status: 400, error: "form body has no payload field" };
    return { ok: true, text: payload };
  }
  return {
    ok: false,
    status: 415,
    error: "content type must be application/json or application/x-www-form-urlencoded",
  };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Tells the control object about the hook this delivery came from, once per isolate, after the response. */
function rememberHook(c: Context<AppEnv>, payload: unknown, now: number): void {
  const sighting = hookSighting(
    {
      id: c.req.header("x-github-hook-id"),
      targetType: c.req.header("x-github-hook-installation-target-type"),
    },
    payload,
    now,
  );
  if (sighting === undefined || !firstSighting(sighting)) return;
  const told = controlFor(c.env.CONTROL)
    .seeHook(sighting)
    .catch((error: unknown) => c.var.log.warn("could not record the webhook's hook", errorFields(error)));
  try {
    c.executionCtx.waitUntil(told);
  } catch {
    // No execution context (a direct app.request in a script): the promise still runs.
  }
}

export function createWebhookHandler(options: Required<Pick<AppOptions, "now">>) {
  return async (c: Context<AppEnv>) => {
    const receivedAt = options.now();
    const event = c.req.header("x-github-event");
    const deliveryId = c.req.header("x-github-delivery");
    const log = c.var.log.child({ deliveryId, event });
    const fields: Record<string, LogFields[string]> = {};
    const reply = (status: 200 | 202 | 400 | 401 | 413 | 415 | 500 | 503, body: Record<string, unknown>) => {
      const decision = status === 202 ? "queued" : status === 200 ? "ignored" : "rejected";
      const reason = typeof body.ignored === "string" ? body.ignored : body.error;
      log.info("webhook delivery", {
        ...fields,
        decision,
        reason: typeof reason === "string" ? reason : undefined,
        status,
        ms: options.now() - receivedAt,
      });
      return c.json(body, status);
    };

    const config = loadConfig(c.env);
    if (!config.intake.ok) {
      log.error("configuration invalid", { problems: describeProblems(config.intake.problems) });
      return reply(500, { error: "webhook is not configured; see /healthz" });
    }
    const intake = config.intake.value;

    const body = await readBody(c.req.raw, intake.maxBodyBytes);
    if (!body.ok) {
      return body.reason === "too_large"
        ? reply(413, { error: `payload larger than ${intake.maxBodyBytes} bytes` })
        : reply(400, { error: "the request body could not be read" });
    }

    const signature = await checkSignature(
      intake.webhookSecrets,
      body.bytes,
      c.req.header("x-hub-signature-256"),
    );
    if (signature !== "valid") {
      fields.auth = signature;
      return reply(401, { error: "invalid or missing X-Hub-Signature-256" });
    }

    if (event === undefined || event === "") return reply(400, { error: "missing X-GitHub-Event header" });
    if (deliveryId === undefined || deliveryId === "") {
      return reply(400, { error: "missing X-GitHub-Delivery header" });
    }

    const payload = decodePayload(c.req.header("content-type"), body.bytes);
    if (!payload.ok) return reply(payload.status, { error: payload.error });

    if (event !== "ping" && event !== "workflow_job") {
      return reply(200, { ignored: `event ${event} is not handled` });
    }
    const json = parseJson(payload.text);
    if (!json.ok) return reply(400, { error: "payload is not valid JSON" });
    rememberHook(c, json.value, receivedAt);
    if (event === "ping") return reply(200, { ok: true, pong: true });
    const parsed = WorkflowJobPayloadSchema.safeParse(json.value);
    if (!parsed.success) return reply(400, { error: "payload is not a valid workflow_job event" });
    const job = parsed.data;
    fields.action = job.action;
    fields.jobId = job.workflow_job.id;
    fields.repository = job.repository.full_name;

    const kind = messageKind(job.action);
    if (kind === undefined) return reply(200, { ignored: `action ${job.action} is not handled` });
    const decision = decide(intake, job);
    if (!decision.accept) return reply(200, { ignored: decision.reason });

    try {
      await c.env.JOBS_QUEUE.send(toJobMessage(job, kind, deliveryId, receivedAt), { contentType: "json" });
    } catch (error) {
      // Not accepted: a 5xx lets the delivery be redelivered from GitHub once the queue is back.
      log.error("queue send failed", { ...fields, ...errorFields(error) });
      return reply(503, { error: "could not queue the job; redeliver it later" });
    }
    rememberOwner(c, job.repository.owner.login, receivedAt);
    return reply(202, { queued: job.workflow_job.id, kind });
  };
}
