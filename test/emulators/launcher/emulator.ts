/**
 * The launcher emulator: Modal's proxy auth in front of `handleLauncherRequest` (handler.ts), with one namespace
 * per `/ns/<name>` prefix, failure injection and call recording (control.ts describes the control API).
 * Runtime-neutral; server.ts puts it on a Node HTTP server.
 *
 * Modal's proxy answers a missing token with HTTP 401 and the text `modal-http: missing credentials for proxy
 * authorization` (Modal's documentation); the text for a wrong token is our guess at the same form.
 */
import * as z from "zod/mini";
import {
  DEFAULT_LAUNCHER_SECRET,
  type Failure,
  FailureSchema,
  type RecordedCall,
  type SandboxState,
  type Settings,
  SettingsSchema,
} from "./control.ts";
import {
  handleLauncherRequest,
  type LauncherBackend,
  type LauncherHttpRequest,
  type LauncherHttpResponse,
} from "./handler.ts";
import { createMemoryBackend, type MemoryBackend } from "./memory-backend.ts";
import { isReason, LauncherRefusal } from "./validate.ts";

export interface EmulatorRequest {
  method: string;
  /** Path and query, with the `/ns/<name>` prefix if any. */
  path: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

export interface EmulatorResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** How long the transport should hold the answer. */
  delayMs: number;
  /** Close the connection instead of answering. */
  drop?: boolean;
}

interface Recorded extends Omit<RecordedCall, "body" | "rawBody"> {
  rawBody: string;
}

interface Namespace {
  settings: Settings;
  failures: Array<Failure & { remaining: number }>;
  calls: Recorded[];
  backend: LauncherBackend;
  /** The in-memory backend, when this namespace uses it (the control API can then show its sandboxes). */
  memory: MemoryBackend | undefined;
}

const PATH = /^(?:\/ns\/([A-Za-z0-9_.-]+))?(\/[^?]*)?(?:\?(.*))?$/;
const PROXY_TOKEN_ID = /^wk-[A-Za-z0-9]+$/;
const PROXY_TOKEN_SECRET = /^ws-[A-Za-z0-9]+$/;
const REDACTED = "[redacted]";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function answer(status: number, contentType: string, body: string, headers: Record<string, string> = {}) {
  return {
    status,
    headers: { "content-type": contentType, ...headers },
    body: encoder.encode(body),
    delayMs: 0,
  };
}

const jsonAnswer = (status: number, body: unknown) =>
  answer(status, "application/json", JSON.stringify(body));

/** A recorded body as JSON, with the runner's env values hidden unless asked for. */
function displayBody(raw: string, secrets: boolean): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (secrets || typeof parsed !== "object" || parsed === null || !("env" in parsed)) return parsed;
  const env = parsed.env;
  if (typeof env !== "object" || env === null) return parsed;
  return { ...parsed, env: Object.fromEntries(Object.keys(env).map((key) => [key, REDACTED])) };
}

function injected(failure: Failure): EmulatorResponse {
  if (failure.drop === true)
    return { status: 0, headers: {}, body: new Uint8Array(), delayMs: 0, drop: true };
  const retryAfter: Record<string, string> =
    failure.retryAfter === undefined ? {} : { "retry-after": String(failure.retryAfter) };
  if (failure.reason !== undefined && isReason(failure.reason)) {
    const refusal = new LauncherRefusal(failure.reason);
    const headers: Record<string, string> =
      refusal.retryAfterSeconds === undefined ? {} : { "retry-after": String(refusal.retryAfterSeconds) };
    return answer(
      failure.status ?? refusal.status,
      failure.contentType ?? "application/json",
      failure.body ?? JSON.stringify(refusal.body()),
      { ...headers, ...retryAfter },
    );
  }
  const status = failure.status ?? 502;
  return answer(
    status,
    failure.contentType ?? "text/html",
    failure.body ?? `<html><body><h1>${status}</h1><p>injected by the launcher emulator</p></body></html>`,
    retryAfter,
  );
}

export function createLauncherEmulator(
  options: { now?: () => number; backendFor?: (namespace: string) => LauncherBackend } = {},
) {
  const now = options.now ?? Date.now;
  const namespaces = new Map<string, Namespace>();
  const fresh = (name: string): Namespace => {
    const empty = { settings: {}, failures: [], calls: [] };
    if (options.backendFor !== undefined)
      return { ...empty, backend: options.backendFor(name), memory: undefined };
    // The backend asks the namespace's settings as they are at the time of the lookup.
    const memory = createMemoryBackend({
      now,
      hasEnvironment: (environment) => ns.settings.environments?.includes(environment) ?? false,
    });
    const ns: Namespace = { ...empty, backend: memory, memory };
    return ns;
  };
  const namespace = (name: string): Namespace => {
    let ns = namespaces.get(name);
    if (ns === undefined) {
      ns = fresh(name);
      namespaces.set(name, ns);
    }
    return ns;
  };

  function proxyRefusal(ns: Namespace, headers: Readonly<Record<string, string>>) {
    const key = headers["modal-key"] ?? "";
    const secret = headers["modal-secret"] ?? "";
    if (key === "" || secret === "")
      return answer(401, "text/plain", "modal-http: missing credentials for proxy authorization");
    const { proxyTokenId, proxyTokenSecret } = ns.settings;
    const valid =
      proxyTokenId === undefined
        ? PROXY_TOKEN_ID.test(key) && PROXY_TOKEN_SECRET.test(secret)
        : key === proxyTokenId && secret === proxyTokenSecret;
    return valid
      ? undefined
      : answer(401, "text/plain", "modal-http: invalid credentials for proxy authorization");
  }

  function takeFailure(ns: Namespace, route: string, body: Uint8Array, afterEffect: boolean) {
    const rule = ns.failures.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.route === route || candidate.route === "*") &&
        (candidate.afterEffect === true) === afterEffect &&
        (candidate.match === undefined || decoder.decode(body).includes(candidate.match)),
    );
    if (rule !== undefined) rule.remaining -= 1;
    return rule;
  }

  type Served = EmulatorResponse & { reason?: string; injected: boolean };

  async function serve(ns: Namespace, request: LauncherHttpRequest): Promise<Served> {
    const route = request.path.replace(/^\//, "");
    const fake = (failure: Failure, delayMs: number): Served => ({
      ...injected(failure),
      delayMs,
      injected: true,
      ...(failure.reason === undefined ? {} : { reason: failure.reason }),
    });
    const before = takeFailure(ns, route, request.body, false);
    const delayMs = before?.delayMs ?? 0;
    const delayOnly = before?.drop !== true && before?.reason === undefined && before?.status === undefined;
    if (before !== undefined && !delayOnly) return fake(before, delayMs);
    const refused = proxyRefusal(ns, request.headers);
    if (refused !== undefined) return { ...refused, delayMs, injected: false };
    const response: LauncherHttpResponse = await handleLauncherRequest(
      request,
      ns.backend,
      {
        launcherSecret: ns.settings.launcherSecret ?? DEFAULT_LAUNCHER_SECRET,
        allowedImages: ns.settings.allowedImages,
      },
      now(),
    );
    const after = takeFailure(ns, route, request.body, true);
    if (after !== undefined) return fake(after, delayMs + (after.delayMs ?? 0));
    return { ...response, delayMs, injected: false };
  }

  async function control(
    ns: Namespace,
    name: string,
    method: string,
    operation: string,
    query: URLSearchParams,
    body: Uint8Array,
  ): Promise<EmulatorResponse> {
    const input = (): unknown => {
      const text = decoder.decode(body).trim();
      return text === "" ? {} : JSON.parse(text);
    };
    const secrets = query.get("secrets") === "true";
    const bad = (error: z.core.$ZodError) => jsonAnswer(400, { error: z.prettifyError(error) });
    const route = `${method} ${operation}`;
    const finish = /^POST sandboxes\/([^/]+)\/finish$/.exec(route);
    if (finish !== null) {
      if (ns.memory === undefined)
        return jsonAnswer(404, { error: "this namespace has no in-memory backend" });
      return ns.memory.finish(finish[1] ?? "")
        ? jsonAnswer(200, { ok: true })
        : jsonAnswer(404, { error: "no such sandbox" });
    }
    switch (route) {
      case "POST settings": {
        const parsed = SettingsSchema.safeParse(input());
        if (!parsed.success) return bad(parsed.error);
        ns.settings = { ...ns.settings, ...parsed.data };
        return jsonAnswer(200, { ok: true });
      }
      case "POST fail": {
        const parsed = z.union([FailureSchema, z.array(FailureSchema)]).safeParse(input());
        if (!parsed.success) return bad(parsed.error);
        for (const failure of Array.isArray(parsed.data) ? parsed.data : [parsed.data]) {
          if (failure.reason !== undefined && !isReason(failure.reason))
            return jsonAnswer(400, { error: `unknown reason ${failure.reason}` });
          ns.failures.push({ ...failure, remaining: failure.count ?? 1 });
        }
        return jsonAnswer(200, { ok: true });
      }
      case "GET calls": {
        const only = query.get("route");
        const calls: RecordedCall[] = ns.calls
          .filter((call) => only === null || call.path === `/${only}`)
          .map(({ rawBody, ...call }) => ({
            ...call,
            headers:
              secrets || call.headers["modal-secret"] === undefined
                ? call.headers
                : { ...call.headers, "modal-secret": REDACTED },
            body: displayBody(rawBody, secrets),
            ...(secrets ? { rawBody } : {}),
          }));
        return jsonAnswer(200, { calls });
      }
      case "GET sandboxes": {
        if (ns.memory === undefined)
          return jsonAnswer(404, { error: "this namespace has no in-memory backend" });
        const sandboxes: SandboxState[] = ns.memory.sandboxes().map((sandbox) => ({
          ...sandbox,
          env: secrets
            ? sandbox.env
            : Object.fromEntries(Object.keys(sandbox.env).map((key) => [key, REDACTED])),
        }));
        return jsonAnswer(200, { sandboxes });
      }
      case "POST reset":
        namespaces.set(name, fresh(name));
        return jsonAnswer(200, { ok: true });
      default:
        return jsonAnswer(404, { error: `unknown control operation ${route}` });
    }
  }

  async function handle(request: EmulatorRequest): Promise<EmulatorResponse> {
    const match = PATH.exec(request.path);
    if (match === null) return jsonAnswer(404, { error: "not found" });
    const [, name = "default", path = "/", query = ""] = match;
    const ns = namespace(name);
    if (path.startsWith("/_emulator/")) {
      try {
        return await control(
          ns,
          name,
          request.method,
          path.slice("/_emulator/".length),
          new URLSearchParams(query),
          request.body,
        );
      } catch (error) {
        return jsonAnswer(400, { error: error instanceof Error ? error.message : String(error) });
      }
    }
    const call: Recorded = {
      seq: ns.calls.length + 1,
      method: request.method,
      path,
      headers: { ...request.headers },
      rawBody: decoder.decode(request.body),
      status: 0,
      injected: false,
    };
    ns.calls.push(call);
    const {
      reason,
      injected: wasInjected,
      ...response
    } = await serve(ns, {
      method: request.method,
      path,
      headers: request.headers,
      body: request.body,
    });
    call.status = response.drop === true ? 0 : response.status;
    call.injected = wasInjected;
    if (reason !== undefined) call.reason = reason;
    return response;
  }

  return { handle, namespace };
}

export type LauncherEmulator = ReturnType<typeof createLauncherEmulator>;
