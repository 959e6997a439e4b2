/**
 * `{base}/_emulator/…`: seed state, inject failures, move runners, jobs and the clock, manage hooks, read what
 * was requested (control.ts lists the endpoints). Control calls are neither recorded nor subject to failures,
 * auth or rate limits. A control call that moves jobs waits for the deliveries it caused, so a test sees their
 * outcome when the call returns. (`POST reset` is handled by emulator.ts, which owns the namespace table.)
 */
import * as z from "zod/mini";
import {
  type AppState,
  ClockSchema,
  DeliverySendSchema,
  FailureSchema,
  HookSeedSchema,
  type RecordedRequest,
  type RunnerState,
  RunnerUpdateSchema,
  SeedSchema,
  SettingsUpdateSchema,
} from "./control.ts";
import { createHook, deliveryState, sendDelivery } from "./control-hooks.ts";
import { settle } from "./hooks.ts";
import {
  announce,
  cancelJob,
  finishJob,
  type JobAction,
  type Outbox,
  routeJobs,
  startJob,
} from "./job-routing.ts";
import { usageReport } from "./rate-limits.ts";
import { applySeed } from "./seed.ts";
import { DEFAULT_RUNNER_RELEASE, type Namespace, nowOf } from "./state.ts";

export interface ControlResult {
  status: number;
  body: unknown;
}

const HTTP_METHOD = /^(GET|POST|PUT|PATCH|DELETE)\s+(\/\S*)$/;

function parse<T>(
  schema: z.ZodMiniType<T>,
  text: string,
): { ok: true; value: T } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    return { ok: false, error: "body is not JSON" };
  }
  const parsed = schema.safeParse(raw);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, error: z.prettifyError(parsed.error) };
}

function redact(request: RecordedRequest): RecordedRequest {
  const authorization = request.headers.authorization;
  if (authorization === undefined) return request;
  const scheme = authorization.split(/\s+/)[0] ?? "";
  return { ...request, headers: { ...request.headers, authorization: `${scheme} [redacted]` } };
}

function runnerState(ns: Namespace): RunnerState[] {
  return [...ns.runners.values()].map(
    ({ encodedJitConfig: _secret, os: _os, version: _version, ...state }) => state,
  );
}

function appState(ns: Namespace): AppState[] {
  return [...ns.apps.values()].map((app) => ({
    id: app.id,
    slug: app.slug,
    name: app.name,
    owner: app.owner,
    clientId: app.clientId ?? null,
    installations: [...ns.installations.values()]
      .filter((installation) => installation.appId === app.id)
      .map((installation) => ({ id: installation.id, account: installation.account })),
    hookId: [...ns.hooks.values()].find((hook) => hook.kind === "app" && hook.appId === app.id)?.id ?? null,
  }));
}

const ANNOUNCED: ReadonlySet<string> = new Set<JobAction>(["queued", "waiting", "in_progress", "completed"]);

function isAnnounced(status: string): status is JobAction {
  return ANNOUNCED.has(status);
}

/**
 * `base` is the namespace's API base URL (for the URLs in webhook payloads).
 */
export async function handleControl(
  ns: Namespace,
  method: string,
  path: string,
  url: URL,
  body: string,
  base: string,
): Promise<ControlResult> {
  const bad = (error: string): ControlResult => ({ status: 400, body: { error } });
  const outbox: Outbox = [];
  const done = async (result: ControlResult): Promise<ControlResult> => {
    await Promise.allSettled(outbox);
    return result;
  };

  if (method === "GET" && path === "/requests") {
    const secrets = url.searchParams.get("secrets") === "true";
    return { status: 200, body: { requests: secrets ? ns.requests : ns.requests.map(redact) } };
  }
  if (method === "POST" && path === "/seed") {
    const seed = parse(SeedSchema, body);
    if (!seed.ok) return bad(seed.error);
    const before = new Map([...ns.jobs.values()].map((job) => [job.id, job.status]));
    try {
      await applySeed(ns, seed.value);
    } catch (error) {
      return bad(error instanceof Error ? error.message : String(error));
    }
    // Every status a seed gives a job is announced, as GitHub would announce the move.
    for (const { id } of seed.value.jobs ?? []) {
      const job = ns.jobs.get(id);
      if (job !== undefined && before.get(id) !== job.status && isAnnounced(job.status)) {
        announce(ns, job, job.status, base, outbox);
      }
    }
    routeJobs(ns, base, outbox);
    return done({ status: 200, body: { ok: true } });
  }
  if (method === "POST" && (path === "/failures" || path === "/fail")) {
    const failures = parse(z.union([FailureSchema, z.array(FailureSchema)]), body);
    if (!failures.ok) return bad(failures.error);
    for (const failure of Array.isArray(failures.value) ? failures.value : [failures.value]) {
      const explicit = HTTP_METHOD.exec(failure.route);
      const route =
        explicit === null ? `${(failure.method ?? "GET").toUpperCase()} ${failure.route}` : failure.route;
      ns.failures.push({ ...failure, route, remaining: failure.count ?? 1 });
    }
    return { status: 200, body: { ok: true } };
  }
  if (method === "POST" && path === "/clock") {
    const clock = parse(ClockSchema, body);
    if (!clock.ok) return bad(clock.error);
    ns.clockOffsetMs = (clock.value.offsetSeconds ?? 0) * 1000;
    ns.clockFixedAt = clock.value.at;
    return { status: 200, body: { ok: true, now: nowOf(ns) } };
  }
  if (method === "POST" && path === "/installation-tokens/revoke") {
    // As when an App is suspended or reinstalled: every token issued so far stops working.
    ns.installationTokens.clear();
    return { status: 200, body: { ok: true } };
  }
  if (method === "GET" && path === "/runners") return { status: 200, body: { runners: runnerState(ns) } };

  const runnerPath = /^\/runners\/(\d+)$/.exec(path);
  if (method === "POST" && runnerPath !== null) {
    const runner = ns.runners.get(Number(runnerPath[1]));
    if (runner === undefined) return { status: 404, body: { error: "no such runner" } };
    const update = parse(RunnerUpdateSchema, body);
    if (!update.ok) return bad(update.error);
    const { status, busy, jobId, complete } = update.value;
    if (status !== undefined) runner.status = status;
    if (busy === true) runner.status = "online";
    if (runner.status === "online" && runner.version === null) {
      runner.version = DEFAULT_RUNNER_RELEASE.replace(/^v/, "");
      runner.os = "Linux";
    }
    if (busy !== undefined) {
      runner.busy = busy;
      runner.jobId = busy ? (jobId ?? runner.jobId) : null;
      const job = runner.jobId === null ? undefined : ns.jobs.get(runner.jobId);
      if (job !== undefined) startJob(ns, job, runner, base, outbox);
    }
    if (complete !== undefined) {
      const job = runner.jobId === null ? undefined : ns.jobs.get(runner.jobId);
      if (job !== undefined) finishJob(ns, job, complete.conclusion, base, outbox);
      // Ephemeral runners unregister after their one job.
      ns.runners.delete(runner.id);
      return done({ status: 200, body: { ok: true, removed: true } });
    }
    routeJobs(ns, base, outbox);
    return done({ status: 200, body: { ok: true } });
  }

  const cancelPath = /^\/jobs\/(\d+)\/cancel$/.exec(path);
  if (method === "POST" && cancelPath !== null) {
    const result = cancelJob(ns, Number(cancelPath[1]), base, outbox);
    if (result === "not_found") return { status: 404, body: { error: "no such job" } };
    if (result === "already_completed") return { status: 409, body: { error: "the job has completed" } };
    return done({ status: 200, body: { ok: true } });
  }
  if (method === "POST" && path === "/settings") {
    const update = parse(SettingsUpdateSchema, body);
    if (!update.ok) return bad(update.error);
    const { assignJobs, jobPayloadTemplate, deliveryTimeoutMs } = update.value;
    if (assignJobs !== undefined) ns.settings.assignJobs = assignJobs;
    if (jobPayloadTemplate !== undefined) ns.settings.jobPayloadTemplate = jobPayloadTemplate;
    if (deliveryTimeoutMs !== undefined) ns.settings.deliveryTimeoutMs = deliveryTimeoutMs;
    routeJobs(ns, base, outbox);
    return done({ status: 200, body: { settings: ns.settings } });
  }
  if (method === "POST" && path === "/hooks") {
    const seed = parse(HookSeedSchema, body);
    return seed.ok ? createHook(ns, seed.value) : bad(seed.error);
  }
  const deliveriesPath = /^\/hooks\/(\d+)\/deliveries$/.exec(path);
  if (deliveriesPath !== null) {
    const hook = ns.hooks.get(Number(deliveriesPath[1]));
    if (hook === undefined) return { status: 404, body: { error: "no such hook" } };
    if (method === "GET") {
      return {
        status: 200,
        body: { deliveries: [...hook.deliveries].sort((a, b) => a.id - b.id).map(deliveryState) },
      };
    }
    if (method === "POST") {
      const send = parse(DeliverySendSchema, body);
      if (!send.ok) return bad(send.error);
      return { status: 200, body: { delivery: deliveryState(await sendDelivery(ns, hook, send.value)) } };
    }
  }
  if (method === "POST" && path === "/deliveries/settle") {
    await settle(ns);
    return { status: 200, body: { ok: true } };
  }
  if (method === "GET" && path === "/rate-limits") {
    return { status: 200, body: { credentials: usageReport(ns.rateLimits) } };
  }
  if (method === "GET" && path === "/apps") return { status: 200, body: { apps: appState(ns) } };
  if (method === "GET" && path === "/check-runs") return { status: 200, body: { checkRuns: ns.checkRuns } };
  return { status: 404, body: { error: `no control endpoint ${method} ${path}` } };
}
