/**
 * Signing keys as Cloudflare Access keeps them: RSA 2048, RS256, each named by a 64-hex-digit key id, published as
 * a JWK and as a PEM certificate. And the tokens Access mints with them: `Cf-Access-Jwt-Assertion` JWTs with
 * `alg: RS256`, `kid` and `typ: JWT` in the header. WebCrypto only, so the emulator runs in Node and workerd alike.
 */
import { selfSignedCertificate } from "./certificate.ts";

export interface PublicJwk {
  kid: string;
  kty: "RSA";
  alg: "RS256";
  use: "sig";
  e: string;
  n: string;
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: PublicJwk;
  /** `BEGIN CERTIFICATE` PEM of a self-signed certificate for the key. */
  cert: string;
}

const CERT_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function generateSigningKey(now: number): Promise<SigningKey> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  if (!("privateKey" in pair)) throw new Error("expected a key pair");
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  // Access's key ids are 64 hex digits; a digest of the public key gives ids of that shape that never collide.
  const kid = hex(await crypto.subtle.digest("SHA-256", spki));
  const exported = await crypto.subtle.exportKey("jwk", pair.publicKey);
  if (exported.n === undefined || exported.e === undefined) throw new Error("expected an RSA JWK");
  return {
    kid,
    privateKey: pair.privateKey,
    jwk: { kid, kty: "RSA", alg: "RS256", use: "sig", e: exported.e, n: exported.n },
    cert: await selfSignedCertificate({
      privateKey: pair.privateKey,
      publicKey: pair.publicKey,
      commonName: "Cloudflare Access emulator",
      notBefore: now - 60_000,
      notAfter: now + CERT_VALIDITY_MS,
    }),
  };
}

/** A compact JWS of `claims`, exactly as given, signed with `key` (the header may be overridden for tests). */
export async function signJwt(
  key: SigningKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const encode = (value: unknown) => base64Url(new TextEncoder().encode(JSON.stringify(value)));
  const input = `${encode({ alg: "RS256", kid: key.kid, typ: "JWT", ...header })}.${encode(claims)}`;
  const signature = await crypto.subtle.sign(
    "RSASSA-PKCS1-v1_5",
    key.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64Url(new Uint8Array(signature))}`;
}
