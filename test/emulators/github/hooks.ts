/**
 * Webhooks and their delivery logs, the way GitHub keeps them: repository hooks, organization hooks and an App's
 * hook, each with its own log. A delivery really POSTs to the hook's URL when it has one, signed and headed as
 * GitHub does; without a URL it records the outcome it was told (a delivery that never reached its target).
 * A redelivery is a new entry with the same GUID and `redelivery: true`. Uses only `fetch` and WebCrypto.
 */
import { iso } from "./bodies.ts";
import { accountOf, type Namespace, nowOf, repositoryOf } from "./state.ts";

export type HookKind = "repository" | "organization" | "app";

export interface DeliveryRecord {
  id: number;
  guid: string;
  /** Milliseconds since the epoch (emulator clock). */
  deliveredAt: number;
  redelivery: boolean;
  /** Seconds the target took to answer. */
  duration: number;
  status: string;
  /** 0 when nothing answered. */
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  url: string | undefined;
  requestHeaders: Record<string, string>;
  payload: Record<string, unknown>;
  responseHeaders: Record<string, string>;
  responseBody: string | null;
}

export interface HookRecord {
  id: number;
  kind: HookKind;
  /** `owner/repo` of a repository hook. */
  repository: string | undefined;
  organization: string | undefined;
  appId: number | undefined;
  url: string | undefined;
  secret: string | undefined;
  /** GitHub's `content_type`: JSON, or the JSON in a `payload` form field. */
  contentType: "json" | "form";
  deliveries: DeliveryRecord[];
}

export interface DeliveryInput {
  event: string;
  action: string | null;
  payload: Record<string, unknown>;
  /** Shared by every hook's delivery of one event, and kept by redeliveries. */
  guid: string;
  installationId: number | null;
  repositoryId: number | null;
  /** The outcome to record when the hook has no URL (default 502). */
  statusCode?: number;
}

/** GitHub's sender identifies itself with a build hash; any hex string has the same shape. */
export const HOOKSHOT_USER_AGENT = "GitHub-Hookshot/e3c1c57";
const MAX_RESPONSE_BODY = 10_000;

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function hmac(hash: "SHA-1" | "SHA-256", secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash }, false, [
    "sign",
  ]);
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
}

/** `X-Hub-Signature-256`: HMAC-SHA256 of the bytes sent, in hex. */
export async function signature256(secret: string, body: string): Promise<string> {
  return `sha256=${await hmac("SHA-256", secret, body)}`;
}

function statusText(statusCode: number): string {
  if (statusCode === 0) return "failed to connect";
  return statusCode >= 200 && statusCode < 300 ? "OK" : `Invalid HTTP Response: ${statusCode}`;
}

/** `X-GitHub-Hook-Installation-Target-Type` and `-ID`: what the hook is installed on. */
function target(ns: Namespace, hook: HookRecord): { type: string; id: number } {
  if (hook.kind === "app") return { type: "integration", id: hook.appId ?? 0 };
  if (hook.kind === "organization")
    return { type: "organization", id: accountOf(ns, hook.organization ?? "").id };
  const [owner = "", name = ""] = (hook.repository ?? "").split("/");
  return { type: "repository", id: repositoryOf(ns, owner, name).id };
}

/** Sends one delivery (or records its outcome) and appends it to the hook's log. */
export async function deliver(
  ns: Namespace,
  hook: HookRecord,
  input: DeliveryInput,
  redelivery = false,
): Promise<DeliveryRecord> {
  const id = ns.nextDeliveryId++;
  const deliveredAt = nowOf(ns);
  const json = JSON.stringify(input.payload);
  const body = hook.contentType === "json" ? json : new URLSearchParams({ payload: json }).toString();
  const { type, id: targetId } = target(ns, hook);
  const headers: Record<string, string> = {
    Accept: "*/*",
    "Content-Type": hook.contentType === "json" ? "application/json" : "application/x-www-form-urlencoded",
    "User-Agent": HOOKSHOT_USER_AGENT,
    "X-GitHub-Delivery": input.guid,
    "X-GitHub-Event": input.event,
    "X-GitHub-Hook-ID": String(hook.id),
    "X-GitHub-Hook-Installation-Target-ID": String(targetId),
    "X-GitHub-Hook-Installation-Target-Type": type,
  };
  if (hook.secret !== undefined && hook.secret !== "") {
    // GitHub signs the bytes it sends, form-encoded or not, and still sends the legacy SHA-1 header.
    headers["X-Hub-Signature"] = `sha1=${await hmac("SHA-1", hook.secret, body)}`;
    headers["X-Hub-Signature-256"] = await signature256(hook.secret, body);
  }

  const started = Date.now();
  let statusCode = input.statusCode ?? 502;
  let status = statusText(statusCode);
  const responseHeaders: Record<string, string> = {};
  let responseBody: string | null = null;
  if (hook.url !== undefined) {
    try {
      // GitHub does not follow redirects: a 3xx is a failed delivery.
      const response = await fetch(hook.url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(ns.settings.deliveryTimeoutMs),
      });
      statusCode = response.status;
      status = statusText(statusCode);
      response.headers.forEach((value, name) => {
        responseHeaders[name] = value;
      });
      responseBody = (await response.text()).slice(0, MAX_RESPONSE_BODY);
    } catch (error) {
      statusCode = 0;
      status = error instanceof Error && error.name === "TimeoutError" ? "timed out" : "failed to connect";
    }
  }
  const record: DeliveryRecord = {
    id,
    guid: input.guid,
    deliveredAt,
    redelivery,
    duration: Math.round(Date.now() - started) / 1000,
    status,
    statusCode,
    event: input.event,
    action: input.action,
    installationId: input.installationId,
    repositoryId: input.repositoryId,
    url: hook.url,
    requestHeaders: headers,
    payload: input.payload,
    responseHeaders,
    responseBody,
  };
  hook.deliveries.push(record);
  return record;
}

/** Sends a delivery again: the same event, GUID and payload, signed with the hook's current secret. */
export function redeliver(
  ns: Namespace,
  hook: HookRecord,
  delivery: DeliveryRecord,
): Promise<DeliveryRecord> {
  return deliver(
    ns,
    hook,
    {
      event: delivery.event,
      action: delivery.action,
      payload: delivery.payload,
      guid: delivery.guid,
      installationId: delivery.installationId,
      repositoryId: delivery.repositoryId,
      // A redelivery to a hook without a URL fails again, unless the original had succeeded.
      statusCode: delivery.statusCode,
    },
    true,
  );
}

/** Keeps a delivery that nobody awaits (a REST redelivery) until `settle` is asked for. */
export function track<T>(ns: Namespace, promise: Promise<T>): Promise<T> {
  ns.inFlight.add(promise);
  const forget = () => ns.inFlight.delete(promise);
  promise.then(forget, forget);
  return promise;
}

export async function settle(ns: Namespace): Promise<void> {
  while (ns.inFlight.size > 0) await Promise.allSettled([...ns.inFlight]);
}

/** The hooks an event about `owner/repo` goes to, with the installation an App hook delivers for. */
export function hooksFor(
  ns: Namespace,
  owner: string,
  repo: string,
): { hook: HookRecord; installationId: number | null }[] {
  const repository = `${owner}/${repo}`.toLowerCase();
  const found: { hook: HookRecord; installationId: number | null }[] = [];
  for (const hook of ns.hooks.values()) {
    if (hook.kind === "repository" && hook.repository?.toLowerCase() === repository) {
      found.push({ hook, installationId: null });
    } else if (hook.kind === "organization" && hook.organization?.toLowerCase() === owner.toLowerCase()) {
      found.push({ hook, installationId: null });
    } else if (hook.kind === "app") {
      const installation = [...ns.installations.values()].find(
        (candidate) => candidate.appId === hook.appId && candidate.account === owner.toLowerCase(),
      );
      if (installation !== undefined) found.push({ hook, installationId: installation.id });
    }
  }
  return found;
}

/** `hook-delivery-item`: what the delivery lists show. */
export function deliveryItemJson(delivery: DeliveryRecord) {
  return {
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: iso(delivery.deliveredAt),
    redelivery: delivery.redelivery,
    duration: delivery.duration,
    status: delivery.status,
    status_code: delivery.statusCode,
    event: delivery.event,
    action: delivery.action,
    installation_id: delivery.installationId,
    repository_id: delivery.repositoryId,
    throttled_at: null,
  };
}

/** `hook-delivery`: one delivery with the request sent and the answer received. */
export function deliveryJson(delivery: DeliveryRecord) {
  return {
    ...deliveryItemJson(delivery),
    ...(delivery.url === undefined ? {} : { url: delivery.url }),
    request: { headers: delivery.requestHeaders, payload: delivery.payload },
    response: { headers: delivery.responseHeaders, payload: delivery.responseBody },
  };
}
