/**
 * The launcher adapter of `SandboxProvider`: JSON over `fetch` to modal/launcher.py, a small app deployed on Modal
 * that creates sandboxes with Modal's own Python SDK. Chosen when MODAL_LAUNCHER_URL is set.
 *
 * Each call passes two locks: Modal's proxy auth (`Modal-Key` / `Modal-Secret`, checked by Modal before the
 * launcher sees anything) and an HMAC of the body with LAUNCHER_SECRET (signature.ts).
 *
 * Handles are the launcher's: `ensureApp` returns `name` or `environment/name`, `ensureImage` returns the registry
 * tag once the launcher has checked it against its allow-list (it keeps one `modal.Image` per tag). The dispatcher
 * caches both, so a job costs one call, `/start`, whose `env` (the JIT config) goes nowhere but the request body.
 *
 * Nothing is retried here: like the GitHub client, every failure surfaces once, typed, and the queue consumer
 * retries with backoff (honouring `retryAfterSeconds`). `/start` is safe to repeat: the sandbox name is unique
 * among the app's running sandboxes, so a repeat answers `alreadyStarted: true`.
 */
import * as z from "zod/mini";
import type { UpstreamError } from "../../errors.ts";
import type { LogFields, Logger } from "../../log.ts";
import { DeadlineExceededError, withDeadline } from "../../net/deadline.ts";
import type { SandboxProvider, SandboxSummary } from "../provider.ts";
import { errorFromAnswer, launcherError, URL_HINT } from "./errors.ts";
import { createLauncherSigner } from "./signature.ts";

/** The part of `fetch` we use; the Worker passes the global one. */
export type LauncherFetch = (
  url: string,
  init: {
    method: "POST";
    headers: Record<string, string>;
    body: string;
    signal: AbortSignal;
    redirect: "manual";
  },
) => Promise<Response>;

export interface LauncherClientOptions {
  /** MODAL_LAUNCHER_URL: the endpoint URL `modal deploy modal/launcher.py` printed. */
  url: string;
  proxyTokenId: string;
  proxyTokenSecret: string;
  launcherSecret: string;
  fetch: LauncherFetch;
  now: () => number;
  /** Deadline of one call, body included. A cold launcher container takes a few seconds. */
  timeoutMs?: number;
  logger?: Logger;
}

const id = z.string().check(z.minLength(1));
const AppAnswer = z.object({ app: id });
const ImageAnswer = z.object({ image: id });
const StartAnswer = z.object({ sandbox_id: id, already_started: z.boolean() });
const ListAnswer = z.object({
  sandboxes: z.array(
    z.object({
      sandbox_id: id,
      name: z.nullable(z.string()),
      tags: z.record(z.string(), z.string()),
      /** Unix seconds; null for a sandbox the launcher did not start. */
      created_at: z.nullable(z.number().check(z.gte(0))),
    }),
  ),
  truncated: z.boolean(),
});
const TerminateAnswer = z.object({ terminated: z.boolean() });

const DEFAULT_TIMEOUT_MS = 30_000;

export function createLauncherClient(options: LauncherClientOptions): SandboxProvider {
  const base = options.url.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signer = createLauncherSigner(options.launcherSecret);
  const { now, logger } = options;

  async function call<T>(
    route: string,
    payload: Record<string, unknown>,
    schema: z.ZodMiniType<T>,
    fields: LogFields = {},
  ): Promise<T> {
    const body = JSON.stringify(payload);
    const started = now();
    const headers = {
      "content-type": "application/json",
      accept: "application/json",
      "user-agent": "actions-on-modal",
      "modal-key": options.proxyTokenId,
      "modal-secret": options.proxyTokenSecret,
      ...(await signer.headers(route, body, started)),
    };
    const fail = (error: UpstreamError): UpstreamError => {
      logger?.debug("launcher call failed", {
        ...fields,
        operation: route,
        status: error.status,
        reason: error.reason,
        durationMs: now() - started,
      });
      return error;
    };

    let response: Response;
    let text: string;
    try {
      ({ response, text } = await withDeadline(
        async (signal) => {
          // `manual`: a redirect means a wrong URL, and following it would re-send the request elsewhere.
          const answer = await options.fetch(`${base}/${route}`, {
            method: "POST",
            headers,
            body,
            signal,
            redirect: "manual",
          });
          // The deadline covers the body too.
          return { response: answer, text: await answer.text() };
        },
        { timeoutMs },
      ));
    } catch (error) {
      throw fail(
        error instanceof DeadlineExceededError
          ? launcherError({
              operation: route,
              reason: "timeout",
              retryable: true,
              detail: `no complete answer within ${timeoutMs} ms`,
              cause: error,
            })
          : launcherError({
              operation: route,
              reason: "network",
              retryable: true,
              detail: (error instanceof Error ? error.message : String(error)).slice(0, 200),
              cause: error,
            }),
      );
    }

    const status = response.status;
    if (status !== 200) throw fail(errorFromAnswer(route, response, text, now()));
    const contentType = response.headers.get("content-type") ?? "";
    if (!/^application\/json\b/i.test(contentType)) {
      throw fail(
        launcherError({
          operation: route,
          status,
          reason: "not_json",
          retryable: false,
          detail: `the answer is ${contentType.split(";")[0] || "untyped"}, not JSON`,
          hint: URL_HINT,
        }),
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw fail(
        launcherError({
          operation: route,
          status,
          reason: "bad_response",
          retryable: false,
          detail: "the answer is not valid JSON",
          cause: error,
        }),
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // Issue paths name fields, never values.
      const paths = parsed.error.issues.map((issue) => issue.path.join(".") || "(root)");
      throw fail(
        launcherError({
          operation: route,
          status,
          reason: "bad_response",
          retryable: false,
          detail: `unexpected answer at ${[...new Set(paths)].join(", ")}`,
          hint: "the Worker and the launcher may be of different versions",
        }),
      );
    }
    logger?.debug("launcher call", { ...fields, operation: route, status, durationMs: now() - started });
    return parsed.data;
  }

  const summary = (entry: z.infer<typeof ListAnswer>["sandboxes"][number]): SandboxSummary => ({
    sandboxId: entry.sandbox_id,
    name: entry.name ?? undefined,
    tags: entry.tags,
    // Unknown for a sandbox the launcher did not start (none of ours): "now" keeps it from looking old.
    createdAt: entry.created_at === null ? now() : Math.round(entry.created_at * 1000),
  });

  return {
    async ensureApp(name, environment) {
      const payload = environment === undefined || environment === "" ? { name } : { name, environment };
      return (await call("app", payload, AppAnswer)).app;
    },

    async ensureImage(appId, registryTag) {
      return (await call("image", { app: appId, image: registryTag }, ImageAnswer)).image;
    },

    async startRunner(spec) {
      const answer = await call(
        "start",
        {
          app: spec.appId,
          name: spec.name,
          image: spec.imageId,
          command: spec.command,
          env: spec.env,
          cpu: spec.cpu,
          memory_mib: spec.memoryMiB,
          timeout_seconds: spec.timeoutSeconds,
          tags: spec.tags,
          ...(spec.gpu === undefined || spec.gpu === "" ? {} : { gpu: spec.gpu }),
          // No regions means any region: the launcher refuses an empty list, so it is left out, not sent.
          ...(spec.regions === undefined || spec.regions.length === 0 ? {} : { regions: [...spec.regions] }),
        },
        StartAnswer,
        { runnerName: spec.name },
      );
      return { sandboxId: answer.sandbox_id, alreadyStarted: answer.already_started };
    },

    async listRunners(appId, tags) {
      const answer = await call("list", { app: appId, tags }, ListAnswer);
      if (answer.truncated) {
        logger?.warn("launcher list truncated", { operation: "list", count: answer.sandboxes.length });
      }
      return answer.sandboxes.map(summary);
    },

    async terminate(sandboxId) {
      // `terminated: false` means it was already gone, which is what we wanted.
      await call("terminate", { sandbox_id: sandboxId }, TerminateAnswer, { sandboxId });
    },
  };
}
