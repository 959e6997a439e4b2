/**
 * Cloudflare Access: a request that passed an Access policy carries `Cf-Access-Jwt-Assertion`, an RS256 JWT
 * signed by the team's keys (published at `https://<team>.cloudflareaccess.com/cdn-cgi/access/certs`). It is
 * verified here with WebCrypto — signature, issuer, audience (the application's AUD tag), expiry — before
 * anything is trusted. Keys are fetched once an hour per isolate, and again (at most once a minute) when a token
 * names a key we do not have yet: Access rotates its keys (every six weeks by default, or when an operator asks).
 */
import * as z from "zod/mini";

const JwkSchema = z.object({
  kid: z.string(),
  kty: z.literal("RSA"),
  n: z.string(),
  e: z.string(),
  alg: z.optional(z.string()),
});
const CertsSchema = z.object({ keys: z.array(z.unknown()) });
const HeaderSchema = z.object({ alg: z.literal("RS256"), kid: z.string() });
const ClaimsSchema = z.object({
  aud: z.union([z.string(), z.array(z.string())]),
  iss: z.string(),
  exp: z.number(),
  nbf: z.optional(z.number()),
  email: z.optional(z.string()),
  sub: z.optional(z.string()),
});

export type AccessCheck =
  | { ok: true; identity: string }
  | {
      ok: false;
      reason:
        | "missing"
        | "malformed"
        | "unknown_key"
        | "bad_signature"
        | "wrong_audience"
        | "wrong_issuer"
        | "expired"
        | "not_yet_valid"
        | "keys_unavailable";
    };

export interface AccessVerifierOptions {
  teamDomain: string;
  audience: string;
  certsUrl: string;
  fetch: typeof fetch;
  now: () => number;
}

const KEYS_TTL_MS = 60 * 60 * 1000;
const REFETCH_MIN_MS = 60 * 1000;
const CLOCK_SKEW_S = 60;

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(
    text
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(text.length / 4) * 4, "="),
  );
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(base64UrlBytes(part)));
  } catch {
    return undefined;
  }
}

export function createAccessVerifier(options: AccessVerifierOptions) {
  let keys = new Map<string, CryptoKey>();
  let fetchedAt = 0;
  /** The last fetch tried, successful or not: what paces refetches. */
  let triedAt = 0;
  let pending: Promise<void> | undefined;

  const refresh = async () => {
    triedAt = options.now();
    const response = await options.fetch(options.certsUrl, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`Access certs answered ${response.status}`);
    const certs = CertsSchema.parse(await response.json());
    const next = new Map<string, CryptoKey>();
    for (const entry of certs.keys) {
      const jwk = JwkSchema.safeParse(entry);
      if (!jwk.success) continue;
      next.set(
        jwk.data.kid,
        await crypto.subtle.importKey(
          "jwk",
          { kty: "RSA", n: jwk.data.n, e: jwk.data.e, alg: "RS256", ext: true },
          { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
          false,
          ["verify"],
        ),
      );
    }
    keys = next;
    fetchedAt = options.now();
  };

  /**
   * The key named `kid`, fetching the keys when they are stale or lack it — at most once a minute, so that made-up
   * key ids (or Access being down) cannot turn every request into a request to Access. When a fetch fails, the
   * keys we have stay in use: Access keeps a rotated-out key valid for a week, so they are still good.
   */
  const keyFor = async (kid: string): Promise<CryptoKey | undefined> => {
    const now = options.now();
    const due = now - fetchedAt > KEYS_TTL_MS || !keys.has(kid);
    if (due && now - triedAt > REFETCH_MIN_MS) {
      pending ??= refresh().finally(() => {
        pending = undefined;
      });
      try {
        await pending;
      } catch (error) {
        if (keys.size === 0) throw error;
      }
    }
    if (keys.size === 0) throw new Error("no Access keys");
    return keys.get(kid);
  };

  return {
    async verify(token: string | undefined): Promise<AccessCheck> {
      if (token === undefined || token === "") return { ok: false, reason: "missing" };
      const [headerPart = "", claimsPart = "", signaturePart = "", extra] = token.split(".");
      if (extra !== undefined || signaturePart === "") return { ok: false, reason: "malformed" };
      const header = HeaderSchema.safeParse(decodeJson(headerPart));
      const claims = ClaimsSchema.safeParse(decodeJson(claimsPart));
      if (!header.success || !claims.success) return { ok: false, reason: "malformed" };
      let key: CryptoKey | undefined;
      try {
        key = await keyFor(header.data.kid);
      } catch {
        return { ok: false, reason: "keys_unavailable" };
      }
      if (key === undefined) return { ok: false, reason: "unknown_key" };
      let valid = false;
      try {
        valid = await crypto.subtle.verify(
          "RSASSA-PKCS1-v1_5",
          key,
          base64UrlBytes(signaturePart),
          new TextEncoder().encode(`${headerPart}.${claimsPart}`),
        );
      } catch {
        // A signature that is not base64url: atob throws, and that must be a refusal, not a 500.
        return { ok: false, reason: "malformed" };
      }
      if (!valid) return { ok: false, reason: "bad_signature" };
      const { aud, iss, exp, nbf } = claims.data;
      const audiences = Array.isArray(aud) ? aud : [aud];
      if (!audiences.includes(options.audience)) return { ok: false, reason: "wrong_audience" };
      if (iss.replace(/\/+$/, "") !== `https://${options.teamDomain}`)
        return { ok: false, reason: "wrong_issuer" };
      const seconds = options.now() / 1000;
      if (exp + CLOCK_SKEW_S < seconds) return { ok: false, reason: "expired" };
      if (nbf !== undefined && nbf - CLOCK_SKEW_S > seconds) return { ok: false, reason: "not_yet_valid" };
      return { ok: true, identity: claims.data.email ?? claims.data.sub ?? "access" };
    },
  };
}

export type AccessVerifier = ReturnType<typeof createAccessVerifier>;
