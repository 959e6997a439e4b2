/**
 * `{base}/_emulator/…`: seed state, inject failures, move runners and the clock, read what was requested.
 * Control calls are neither recorded nor subject to failures or auth. (`POST reset` is handled by emulator.ts,
 * which owns the namespace table.)
 */
import * as z from "zod/mini";
import { DEFAULT_RUNNER_RELEASE, type Namespace, applySeed, nowOf } from "./state.ts";
import {
  ClockSchema,
  FailureSchema,
  type RecordedRequest,
  type RunnerState,
  RunnerUpdateSchema,
  SeedSchema,
} from "./control.ts";

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

export async function handleControl(
  ns: Namespace,
  method: string,
  path: string,
  url: URL,
  body: string,
): Promise<ControlResult> {
  const bad = (error: string): ControlResult => ({ status: 400, body: { error } });

  if (method === "GET" && path === "/requests") {
    const secrets = url.searchParams.get("secrets") === "true";
    return { status: 200, body: { requests: secrets ? ns.requests : ns.requests.map(redact) } };
  }
  if (method === "POST" && path === "/seed") {
    const seed = parse(SeedSchema, body);
    if (!seed.ok) return bad(seed.error);
    try {
      await applySeed(ns, seed.value);
    } catch (error) {
      return bad(error instanceof Error ? error.message : String(error));
    }
    return { status: 200, body: { ok: true } };
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
    ns.clockOffsetMs = clock.value.offsetSeconds * 1000;
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
    const now = nowOf(ns);
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
      if (job !== undefined) {
        Object.assign(job, {
          status: "in_progress",
          runnerId: runner.id,
          runnerName: runner.name,
          startedAt: now,
        });
      }
    }
    if (complete !== undefined) {
      const job = runner.jobId === null ? undefined : ns.jobs.get(runner.jobId);
      if (job !== undefined)
        Object.assign(job, { status: "completed", conclusion: complete.conclusion, completedAt: now });
      // Ephemeral runners unregister after their one job.
      ns.runners.delete(runner.id);
      return { status: 200, body: { ok: true, removed: true } };
    }
    return { status: 200, body: { ok: true } };
  }
  return { status: 404, body: { error: `no control endpoint ${method} ${path}` } };
}
