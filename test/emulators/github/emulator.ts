/**
 * The GitHub emulator without its HTTP server: namespaces, request recording, failure injection, GitHub's
 * checks (User-Agent, Authorization, primary and secondary rate limits per credential) and headers, then the
 * routes (routes.ts), the control API (control-api.ts) or the manifest flow's web pages (manifest.ts). No Node
 * imports; server.ts puts it on a socket.
 *
 * `{url}/ns/<name>/…` uses namespace `<name>` (created on first use); `{url}/…` the namespace `default`. An
 * `/api/v3` prefix after that is accepted, as on GitHub Enterprise Server, whose web pages live on the same host
 * without it.
 */
import { authenticate, type Identity } from "./auth.ts";
import { errorBody } from "./bodies.ts";
import type { RecordedRequest } from "./control.ts";
import { handleControl } from "./control-api.ts";
import { manifestPage, submitManifest } from "./manifest.ts";
import { admit, currentHeaders } from "./rate-limits.ts";
import { matchRoute } from "./routes.ts";
import { createNamespace, type Namespace, nowOf } from "./state.ts";

export interface EmulatorRequest {
  method: string;
  /** Absolute, as the client sent it (host included: `Link` headers point back to it). */
  url: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export type EmulatorResponse =
  | { kind: "respond"; status: number; headers: Record<string, string>; body: string; delayMs?: number }
  /** Close the connection without answering. */
  | { kind: "drop"; delayMs?: number };

export interface GitHubEmulator {
  handle(request: EmulatorRequest): Promise<EmulatorResponse>;
}

const NAMESPACE_PATH = /^\/ns\/([A-Za-z0-9._-]+)(\/.*)?$/;
const USER_AGENT_REQUIRED =
  "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.";

function json(status: number, body: unknown, headers: Record<string, string> = {}): EmulatorResponse {
  const hasBody = body !== undefined && status !== 204;
  return {
    kind: "respond",
    status,
    headers: hasBody ? { "content-type": "application/json; charset=utf-8", ...headers } : headers,
    body: hasBody ? JSON.stringify(body) : "",
  };
}

function parseBody(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function describeAuth(identity: Identity | undefined): RecordedRequest["auth"] {
  if (identity === undefined) return { kind: "invalid" };
  if (identity.kind === "installation")
    return { kind: "installation", installationId: identity.installationId };
  if (identity.kind === "app") return { kind: "app", appId: identity.appId };
  return { kind: identity.kind };
}

/** How GitHub's primary-limit message names the caller. */
function who(auth: RecordedRequest["auth"]): string {
  if (auth.kind === "installation") return `installation ID ${auth.installationId}`;
  if (auth.kind === "app") return `app ID ${auth.appId}`;
  if (auth.kind === "none") return "127.0.0.1";
  return "user ID 1";
}

export function createGitHubEmulator(): GitHubEmulator {
  const namespaces = new Map<string, Namespace>();
  const namespace = (name: string): Namespace => {
    let ns = namespaces.get(name);
    if (ns === undefined) {
      ns = createNamespace(name);
      namespaces.set(name, ns);
    }
    return ns;
  };
  let requestCounter = 0;

  const handleApi = async (
    ns: Namespace,
    request: EmulatorRequest,
    url: URL,
    path: string,
    base: string,
    fullPath: string,
  ): Promise<EmulatorResponse> => {
    const now = nowOf(ns);
    const requestId = `EMU:${(++requestCounter).toString(16).toUpperCase()}`;
    const common = {
      "x-github-media-type": "github.v3; format=json",
      "x-github-api-version-selected": "2022-11-28",
      "x-github-request-id": requestId,
      date: new Date(now).toUTCString(),
    };
    // Who is calling decides whose rate-limit headers even an injected failure carries.
    const auth = await authenticate(ns, request.headers.authorization, now);
    const credential = auth.ok ? auth.credential : "anonymous";
    const matched = matchRoute(request.method, path);
    const recorded: RecordedRequest = {
      method: request.method,
      path: `${fullPath}${url.search}`,
      route: matched === undefined ? null : `${matched.route.method} ${matched.route.template}`,
      headers: { ...request.headers },
      body: (() => {
        const parsed = parseBody(request.body);
        return parsed.ok ? (parsed.value ?? null) : request.body;
      })(),
      auth: { kind: "none" },
      status: 0,
    };
    ns.requests.push(recorded);
    const answer = (response: EmulatorResponse): EmulatorResponse => {
      recorded.status = response.kind === "respond" ? response.status : 0;
      return response;
    };

    let delayMs: number | undefined;
    const failure = ns.failures.find(
      (rule) =>
        rule.remaining > 0 &&
        rule.route === recorded.route &&
        (rule.pathIncludes === undefined || recorded.path.includes(rule.pathIncludes)),
    );
    if (failure !== undefined) {
      failure.remaining -= 1;
      delayMs = failure.delayMs;
      if (failure.drop === true)
        return answer({ kind: "drop", ...(delayMs === undefined ? {} : { delayMs }) });
      if (failure.status !== undefined) {
        const headers: Record<string, string> = {
          ...common,
          ...currentHeaders(ns.rateLimits, credential, now),
          ...failure.headers,
        };
        if (failure.retryAfter !== undefined) headers["retry-after"] = String(failure.retryAfter);
        const body = failure.body ?? errorBody(failure.status, `Emulated failure (${failure.status})`);
        return answer({
          ...json(failure.status, body, headers),
          ...(delayMs === undefined ? {} : { delayMs }),
        });
      }
    }
    const withDelay = (response: EmulatorResponse) =>
      answer(delayMs === undefined ? response : { ...response, delayMs });

    if (request.headers["user-agent"] === undefined || request.headers["user-agent"] === "") {
      return withDelay(json(403, errorBody(403, USER_AGENT_REQUIRED), common));
    }
    recorded.auth = describeAuth(auth.ok ? auth.identity : undefined);
    if (!auth.ok) return withDelay(json(auth.status, errorBody(auth.status, auth.message), common));

    const admission = admit(ns.rateLimits, {
      credential,
      route: recorded.route,
      now,
      who: who(recorded.auth),
      requestId,
    });
    recorded.credential = credential;
    recorded.duringAnnouncedLimit = admission.duringAnnouncedLimit;
    const headers = { ...common, ...admission.headers };
    if (!admission.ok) return withDelay(json(admission.status, admission.body, headers));
    if (matched === undefined) return withDelay(json(404, errorBody(404, "Not Found"), headers));

    const body = parseBody(request.body);
    if (!body.ok) return withDelay(json(400, errorBody(400, "Problems parsing JSON"), headers));
    const response = await matched.route.handle({
      ns,
      url,
      path,
      base,
      params: matched.params,
      body: body.value,
      identity: auth.identity,
      credential,
      now,
    });
    return withDelay(json(response.status, response.body, { ...headers, ...response.headers }));
  };

  return {
    async handle(request) {
      const url = new URL(request.url);
      const scoped = NAMESPACE_PATH.exec(url.pathname);
      const name = scoped?.[1] ?? "default";
      const rest = scoped === null ? url.pathname : (scoped[2] ?? "/");
      const prefix = scoped === null ? "" : `/ns/${name}`;

      if (rest.startsWith("/_emulator/")) {
        if (rest === "/_emulator/reset" && request.method === "POST") {
          namespaces.set(name, createNamespace(name));
          return json(200, { ok: true });
        }
        const result = await handleControl(
          namespace(name),
          request.method,
          rest.slice("/_emulator".length),
          url,
          request.body,
          `${url.origin}${prefix}`,
        );
        return json(result.status, result.body);
      }

      const page = manifestPage(request.method, rest);
      if (page !== undefined) {
        const answer = await submitManifest(namespace(name), {
          org: page.org,
          url,
          body: request.body,
          base: `${url.origin}${prefix}`,
        });
        return { kind: "respond", ...answer };
      }

      const ghes = /^\/api\/v3(?=\/|$)/.exec(rest);
      const path = ghes === null ? rest : rest.slice(ghes[0].length) || "/";
      const base = `${url.origin}${prefix}${ghes === null ? "" : "/api/v3"}`;
      return handleApi(namespace(name), request, url, path, base, rest);
    },
  };
}
