/**
 * Every way a launcher call can fail, as `RetryableError` / `PermanentError` with a stable reason and a message
 * that says what to check. Messages name variables, never their values, and never quote the launcher's answer:
 * it comes from the far side of the network and could carry anything.
 *
 * Two kinds of answer arrive: the launcher's own JSON `{ error, reason, field? }` (reasons in
 * modal/launcher_protocol.json, mirrored below and checked against it by a test), and anything else — Modal's
 * proxy refusing the proxy token (401, plain text), a gateway error page, a wrong URL.
 */
import { PermanentError, RetryableError, type UpstreamError } from "../../errors.ts";
import { retryAfterSeconds as retryAfter } from "../../net/retry-after.ts";

export const URL_HINT = "is MODAL_LAUNCHER_URL the URL that `modal deploy modal/launcher.py` printed?";
const SECRET_HINT = "LAUNCHER_SECRET must equal LAUNCHER_SECRET in the launcher's Modal secret";
export const PROXY_HINT =
  "check MODAL_PROXY_TOKEN_ID / MODAL_PROXY_TOKEN_SECRET (a proxy auth token of the launcher's workspace)";
const VERSION_HINT =
  "the Worker and the launcher may be of different versions: deploy both from one checkout";

/** The launcher's reasons: whether trying again can help, and what to check otherwise. */
export const LAUNCHER_REASONS: Readonly<Record<string, { retryable: boolean; hint?: string }>> = {
  method_not_allowed: { retryable: false, hint: URL_HINT },
  not_found: { retryable: false, hint: URL_HINT },
  too_large: { retryable: false, hint: VERSION_HINT },
  launcher_misconfigured: {
    retryable: false,
    hint: "set LAUNCHER_SECRET in the launcher's Modal secret (actions-on-modal-launcher) and redeploy it",
  },
  missing_signature: { retryable: false, hint: VERSION_HINT },
  bad_signature: { retryable: false, hint: SECRET_HINT },
  stale_timestamp: { retryable: false, hint: "the Worker's clock and Modal's differ by more than 300 s" },
  invalid_json: { retryable: false, hint: VERSION_HINT },
  invalid_request: { retryable: false, hint: VERSION_HINT },
  image_not_allowed: {
    retryable: false,
    hint: "allow the image in LAUNCHER_ALLOWED_IMAGES (the launcher's Modal secret), or change RUNNER_IMAGE",
  },
  name_conflict: { retryable: true },
  image_build_failed: {
    retryable: false,
    hint: "check that the image exists, can be pulled without credentials and is built for linux/amd64",
  },
  modal_rejected: {
    retryable: false,
    hint: "Modal refused the request: check SANDBOX_GPU, SANDBOX_CPU, SANDBOX_MEMORY_MB and MODAL_ENVIRONMENT",
  },
  modal_denied: {
    retryable: false,
    hint: "Modal refused the launcher's own identity: redeploy the launcher from an account with access",
  },
  modal_capacity: { retryable: true },
  modal_unavailable: { retryable: true },
  internal: { retryable: true, hint: "see the launcher's log: modal app logs actions-on-modal-launcher" },
};

export interface LauncherFailure {
  /** The route: `app`, `image`, `start`, `list` or `terminate`. */
  operation: string;
  reason: string;
  retryable: boolean;
  status?: number;
  field?: string;
  /** What happened, in our words. */
  detail?: string;
  hint?: string;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export function launcherError(failure: LauncherFailure): UpstreamError {
  const where = failure.status === undefined ? "" : ` with HTTP ${failure.status}`;
  const field = failure.field === undefined ? "" : `, field ${failure.field}`;
  const detail = failure.detail === undefined ? "" : `: ${failure.detail}`;
  const hint = failure.hint === undefined ? "" : ` (${failure.hint})`;
  const message = `Modal launcher /${failure.operation} failed${where} (${failure.reason}${field})${detail}${hint}`;
  const details = {
    service: "launcher" as const,
    operation: failure.operation,
    reason: failure.reason,
    ...(failure.status === undefined ? {} : { status: failure.status }),
    ...(failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }),
    ...(failure.cause === undefined ? {} : { cause: failure.cause }),
  };
  return failure.retryable ? new RetryableError(message, details) : new PermanentError(message, details);
}

const REASON = /^[a-z][a-z_]{0,39}$/;
const FIELD = /^(?:[A-Za-z_][A-Za-z0-9_]{0,63}|\(unknown\))$/;

/** The launcher's error body, if that is what this is. */
function launcherBody(headers: Headers, text: string): { reason: string; field?: string } | undefined {
  if (!/^application\/json\b/i.test(headers.get("content-type") ?? "")) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || !("reason" in body) || typeof body.reason !== "string")
    return undefined;
  if (!REASON.test(body.reason)) return undefined;
  const field =
    "field" in body && typeof body.field === "string" && FIELD.test(body.field) ? body.field : undefined;
  return field === undefined ? { reason: body.reason } : { reason: body.reason, field };
}

const retryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/** A non-200 answer. */
export function errorFromAnswer(
  operation: string,
  response: Response,
  text: string,
  now: number,
): UpstreamError {
  const status = response.status;
  const retryAfterSeconds = retryAfter(response.headers.get("retry-after"), now);
  const common = { operation, status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  const body = launcherBody(response.headers, text);
  if (body !== undefined) {
    const known = LAUNCHER_REASONS[body.reason];
    return launcherError({
      ...common,
      reason: body.reason,
      retryable: known?.retryable ?? retryableStatus(status),
      ...(body.field === undefined ? {} : { field: body.field }),
      ...(known?.hint === undefined ? {} : { hint: known.hint }),
    });
  }
  // Not the launcher speaking: Modal's proxy, a gateway or something at the wrong URL.
  if (status === 401 || status === 403)
    return launcherError({ ...common, reason: "proxy_unauthorized", retryable: false, hint: PROXY_HINT });
  if (status >= 300 && status < 400)
    return launcherError({ ...common, reason: "redirected", retryable: false, hint: URL_HINT });
  if (status === 404 || status === 405)
    return launcherError({ ...common, reason: "not_found", retryable: false, hint: URL_HINT });
  if (status === 429) return launcherError({ ...common, reason: "rate_limited", retryable: true });
  if (retryableStatus(status)) return launcherError({ ...common, reason: "unavailable", retryable: true });
  return launcherError({ ...common, reason: "http_error", retryable: false, hint: URL_HINT });
}
