/**
 * Who may see `/status` and use `/api`: with Cloudflare Access configured (ACCESS_TEAM_DOMAIN, ACCESS_AUD), only
 * requests carrying a valid Access JWT; otherwise only a bearer STATUS_TOKEN — in the `Authorization` header, or
 * the session cookie `/status/login` sets for a browser. With neither configured the page does not exist (404):
 * nothing of the deployment is shown to anyone by default.
 *
 * A state-changing call (`POST /api/...`) also needs a JSON body and, when the browser says where it comes from,
 * the same origin: Access and the session cookie ride along on cross-site requests, a JSON content type and the
 * Origin check make sure it was our own page (or a script with the token) that asked.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { OperatorConfig } from "../config/operator.ts";
import { loadConfig } from "../config.ts";
import { type AccessVerifier, createAccessVerifier } from "./access-jwt.ts";
import type { AppEnv } from "./context.ts";

export const SESSION_COOKIE = "aom_status";
/**
 * HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure (browsers also keep a
 * Secure cookie from http://localhost, so `wrangler dev` works), for a working day.
 */
export const SESSION_COOKIE_OPTIONS = {
  httpOnly: true,
  secure: true,
  sameSite: "Strict",
  path: "/",
  maxAge: 8 * 60 * 60,
} as const;
const encoder = new TextEncoder();

/** The cookie's value: an HMAC of the token (the token itself never sits in a cookie). */
export async function sessionValue(token: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode("actions-on-modal status session")),
  );
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Compares in constant time (over digests, so lengths never leak either). */
export async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

function bearer(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export type OperatorMode = "access" | "token" | "none";

export type OperatorCheck =
  | { ok: true; identity: string }
  | { ok: false; status: 401 | 403 | 404 | 500 | 503; error: string; reason: string; mode: OperatorMode };

export function createOperatorAuth(options: { fetch: typeof fetch; now: () => number }) {
  const verifiers = new Map<string, AccessVerifier>();
  const verifierFor = (access: NonNullable<OperatorConfig["access"]>) => {
    const key = `${access.certsUrl}|${access.audience}|${access.teamDomain}`;
    let verifier = verifiers.get(key);
    if (verifier === undefined) {
      verifier = createAccessVerifier({ ...access, fetch: options.fetch, now: options.now });
      verifiers.set(key, verifier);
    }
    return verifier;
  };

  const check = async (c: Context<AppEnv>): Promise<OperatorCheck> => {
    const config = loadConfig(c.env).operator;
    if (!config.ok) {
      return {
        ok: false,
        status: 500,
        error: "the status page is misconfigured; see /healthz",
        reason: "config",
        mode: "none",
      };
    }
    const { access, statusToken } = config.value;
    if (access !== undefined) {
      const result = await verifierFor(access).verify(c.req.header("cf-access-jwt-assertion"));
      if (result.ok) return { ok: true, identity: result.identity };
      if (result.reason === "missing") {
        return {
          ok: false,
          status: 401,
          error: "sign in through Cloudflare Access",
          reason: result.reason,
          mode: "access",
        };
      }
      // Our side of the check failed (Access's keys could not be fetched): not the caller's fault, and worth a retry.
      if (result.reason === "keys_unavailable") {
        return {
          ok: false,
          status: 503,
          error: "Cloudflare Access's keys could not be fetched; try again",
          reason: result.reason,
          mode: "access",
        };
      }
      return {
        ok: false,
        status: 403,
        error: "the Access token was refused",
        reason: result.reason,
        mode: "access",
      };
    }
    if (statusToken === undefined) {
      return { ok: false, status: 404, error: "not found", reason: "disabled", mode: "none" };
    }
    const token = bearer(c.req.header("authorization"));
    if (token !== undefined) {
      return (await sameSecret(token, statusToken))
        ? { ok: true, identity: "token" }
        : { ok: false, status: 401, error: "invalid token", reason: "wrong_token", mode: "token" };
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie !== undefined && (await sameSecret(cookie, await sessionValue(statusToken)))) {
      return { ok: true, identity: "session" };
    }
    return {
      ok: false,
      status: 401,
      error: "a bearer STATUS_TOKEN is required",
      reason: "missing",
      mode: "token",
    };
  };

  const guard =
    (kind: "page" | "api"): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const result = await check(c);
      if (!result.ok) {
        c.var.log.info("operator request refused", {
          path: c.req.path,
          reason: result.reason,
          status: result.status,
        });
        // A browser without the session cookie is sent to the sign-in form.
        if (kind === "page" && result.mode === "token" && result.reason === "missing") {
          return c.redirect("/status/login", 303);
        }
        const headers: Record<string, string> =
          result.status === 401 ? { "www-authenticate": 'Bearer realm="actions-on-modal"' } : {};
        return c.json({ error: result.error }, result.status, headers);
      }
      if (c.req.method !== "GET" && c.req.method !== "HEAD") {
        const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
        if (type !== "application/json") return c.json({ error: "send a JSON body" }, 415);
        const origin = c.req.header("origin");
        if (origin !== undefined && origin !== new URL(c.req.url).origin) {
          return c.json({ error: "cross-origin requests are refused" }, 403);
        }
      }
      c.set("operator", result.identity);
      await next();
      // What an operator sees is the deployment's live state: never kept by a browser or a cache on the way.
      c.header("cache-control", "no-store");
    };

  return { check, page: guard("page"), api: guard("api") };
}
