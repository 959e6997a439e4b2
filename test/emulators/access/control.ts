/**
 * The Cloudflare Access emulator: what it serves and its control API (`{base}/_emulator/…`, JSON), shared by the
 * emulator (which validates with these schemas) and the test helper in control-client.ts. No Node imports.
 *
 * Served as Access serves it, under each namespace's base URL (`/ns/<name>`):
 * - `GET /cdn-cgi/access/certs` → `AccessCerts`: the current and the previous signing key (Access keeps a rotated-out
 *   key valid for 7 days), as JWKs in `keys`, the current one as PEM in `public_cert`, both in `public_certs`.
 *
 * A fresh namespace has a current and a previous key, made on first use. Control endpoints (never counted as
 * fetches, never failed):
 * - `POST /_emulator/sign` (`SignRequest`) → `{ token }` — a JWT of exactly the claims given, with the current key
 *   or the key `kid` names (a rotated-out or retired one too: tokens Access would no longer vouch for)
 * - `POST /_emulator/rotate` → `KeysState` — a new current key; the current one becomes the previous one, the
 *   previous one is retired (no longer published)
 * - `GET  /_emulator/keys` → `KeysState`
 * - `POST /_emulator/fail` (`CertsFailure`) — the next `count` certs fetches answer `status`
 * - `POST /_emulator/reset`
 */
import * as z from "zod/mini";

export const CERTS_PATH = "/cdn-cgi/access/certs";

export const PublicJwkSchema = z.object({
  kid: z.string(),
  kty: z.literal("RSA"),
  alg: z.literal("RS256"),
  use: z.literal("sig"),
  e: z.string(),
  n: z.string(),
});

export const PublicCertSchema = z.object({ kid: z.string(), cert: z.string() });

export const AccessCertsSchema = z.object({
  keys: z.array(PublicJwkSchema),
  public_cert: PublicCertSchema,
  public_certs: z.array(PublicCertSchema),
});
export type AccessCerts = z.infer<typeof AccessCertsSchema>;

export const SignRequestSchema = z.object({
  claims: z.record(z.string(), z.unknown()),
  /** A key the namespace made (current, previous or retired); the current one by default. */
  kid: z.optional(z.string()),
  /** Merged over `{ alg: "RS256", kid, typ: "JWT" }`: a test can name another kid than the signing key's. */
  header: z.optional(z.record(z.string(), z.unknown())),
});
export type SignRequest = z.infer<typeof SignRequestSchema>;

export const SignAnswerSchema = z.object({ token: z.string() });

export const KeysStateSchema = z.object({
  current: z.string(),
  previous: z.nullable(z.string()),
  /** Keys no longer published, newest first. */
  retired: z.array(z.string()),
  /** How many times the certs were fetched (failed fetches included). */
  fetches: z.int(),
});
export type KeysState = z.infer<typeof KeysStateSchema>;

export const CertsFailureSchema = z.object({
  status: z.int().check(z.minimum(400), z.maximum(599)),
  count: z.optional(z.int().check(z.positive())),
});
export type CertsFailure = z.infer<typeof CertsFailureSchema>;
