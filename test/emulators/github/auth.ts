/**
 * Who is calling, as GitHub decides it: a PAT, an installation token the emulator issued, or an App JWT verified
 * with the App's public key under GitHub's rules (RS256; `iss` the App ID or client ID; `iat` an integer not in
 * the future; `exp` in the future and at most 10 minutes ahead). Then whether that caller may do what it asks.
 * The 401 messages are GitHub's.
 */
import type { Permissions } from "./control.ts";
import { credentialName } from "./rate-limits.ts";
import type { Namespace } from "./state.ts";

export type Identity =
  | { kind: "none" }
  | { kind: "pat"; permissions: Permissions | undefined }
  | { kind: "installation"; installationId: number; account: string; permissions: Permissions | undefined }
  | { kind: "app"; appId: number };

export type AuthResult =
  | {
      ok: true;
      identity: Identity;
      /** Whose rate-limit budget the call spends (rate-limits.ts names them). */
      credential: string;
    }
  | { ok: false; status: number; message: string };

type Verified = { ok: true; identity: Identity } | { ok: false; status: number; message: string };

const BAD_CREDENTIALS = "Bad credentials";
const JWT_UNDECODABLE = "A JSON web token could not be decoded";
const IAT_INVALID =
  "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
const EXP_INVALID =
  "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future";
const MAX_JWT_LIFETIME_SECONDS = 10 * 60;

const PAT = /^(ghp_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})$/;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(
    text
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(text.length / 4) * 4, "="),
  );
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(base64UrlDecode(part)));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value))
      : undefined;
  } catch {
    return undefined;
  }
}

async function verifyJwt(ns: Namespace, jwt: string, now: number): Promise<Verified> {
  const [headerPart = "", payloadPart = "", signaturePart = ""] = jwt.split(".");
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  if (header === undefined || payload === undefined || header.alg !== "RS256") {
    return { ok: false, status: 401, message: JWT_UNDECODABLE };
  }
  const iss = payload.iss;
  const app = [...ns.apps.values()].find(
    (candidate) =>
      (typeof iss === "number" && iss === candidate.id) ||
      (typeof iss === "string" && (iss === String(candidate.id) || iss === candidate.clientId)),
  );
  if (app === undefined) return { ok: false, status: 401, message: JWT_UNDECODABLE };
  const valid = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    app.publicKey,
    base64UrlDecode(signaturePart),
    new TextEncoder().encode(`${headerPart}.${payloadPart}`),
  );
  if (!valid) return { ok: false, status: 401, message: JWT_UNDECODABLE };
  const seconds = Math.floor(now / 1000);
  const { iat, exp } = payload;
  if (typeof iat !== "number" || !Number.isInteger(iat) || iat > seconds) {
    return { ok: false, status: 401, message: IAT_INVALID };
  }
  if (typeof exp !== "number" || exp <= seconds) return { ok: false, status: 401, message: EXP_INVALID };
  if (exp > seconds + MAX_JWT_LIFETIME_SECONDS) return { ok: false, status: 401, message: EXP_TOO_FAR };
  return { ok: true, identity: { kind: "app", appId: app.id } };
}

/** Reads `Authorization`. GitHub takes `token` or `Bearer` for tokens, and only `Bearer` for a JWT. */
export async function authenticate(
  ns: Namespace,
  authorization: string | undefined,
  now: number,
): Promise<AuthResult> {
  const verified = await identify(ns, authorization, now);
  if (!verified.ok) return verified;
  const { identity } = verified;
  const token = /^\S+\s+(\S+)/.exec(authorization ?? "")?.[1];
  const credential = await credentialName(identity.kind, {
    ...(token === undefined ? {} : { token }),
    ...(identity.kind === "installation" ? { installationId: identity.installationId } : {}),
    ...(identity.kind === "app" ? { appId: identity.appId } : {}),
  });
  return { ok: true, identity, credential };
}

async function identify(ns: Namespace, authorization: string | undefined, now: number): Promise<Verified> {
  if (authorization === undefined) return { ok: true, identity: { kind: "none" } };
  const match = /^(token|bearer)\s+(\S+)\s*$/i.exec(authorization);
  if (match === null) return { ok: false, status: 401, message: BAD_CREDENTIALS };
  const scheme = (match[1] ?? "").toLowerCase();
  const credential = match[2] ?? "";

  if (credential.startsWith("ghs_")) {
    const issued = ns.installationTokens.get(credential);
    const installation = issued === undefined ? undefined : ns.installations.get(issued.installationId);
    if (issued === undefined || installation === undefined || now >= issued.expiresAt) {
      return { ok: false, status: 401, message: BAD_CREDENTIALS };
    }
    return {
      ok: true,
      identity: {
        kind: "installation",
        installationId: installation.id,
        account: installation.account,
        permissions: installation.permissions,
      },
    };
  }
  if (JWT.test(credential)) {
    if (scheme !== "bearer") return { ok: false, status: 401, message: JWT_UNDECODABLE };
    return verifyJwt(ns, credential, now);
  }
  if (ns.tokens === undefined) {
    return PAT.test(credential)
      ? { ok: true, identity: { kind: "pat", permissions: undefined } }
      : { ok: false, status: 401, message: BAD_CREDENTIALS };
  }
  if (!ns.tokens.has(credential)) return { ok: false, status: 401, message: BAD_CREDENTIALS };
  return { ok: true, identity: { kind: "pat", permissions: ns.tokens.get(credential) } };
}

export interface Requirement {
  /** The account (owner or organization) whose resource is asked for. */
  account: string;
  /** A GitHub App / fine-grained permission, e.g. `administration`. */
  permission: string;
  level: "read" | "write";
  /** Public data (a public repository's releases): anonymous callers may read it. */
  public?: boolean;
}

export type Denial = { status: number; message: string } | undefined;

/**
 * GitHub answers 401 "Requires authentication" to anonymous callers of private resources, 404 when the caller
 * cannot see the account at all (an installation on another account), and 403 "Resource not accessible by …"
 * when it can see it without the permission.
 */
export function authorize(identity: Identity, requirement: Requirement): Denial {
  if (identity.kind === "none") {
    return requirement.public ? undefined : { status: 401, message: "Requires authentication" };
  }
  if (identity.kind === "app") return { status: 401, message: BAD_CREDENTIALS };
  if (requirement.public) return undefined;
  if (identity.kind === "installation" && identity.account !== requirement.account.toLowerCase()) {
    return { status: 404, message: "Not Found" };
  }
  const granted = identity.permissions === undefined ? "write" : identity.permissions[requirement.permission];
  const enough = granted === "write" || (granted === "read" && requirement.level === "read");
  if (enough) return undefined;
  return {
    status: 403,
    message:
      identity.kind === "installation"
        ? "Resource not accessible by integration"
        : "Resource not accessible by personal access token",
  };
}
