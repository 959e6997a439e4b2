/**
 * GitHub App JWTs (RS256), signed with WebCrypto so the Worker needs no `nodejs_compat`.
 *
 * GitHub hands out App keys in PKCS#1 (`BEGIN RSA PRIVATE KEY`), which WebCrypto cannot import; we wrap them in a
 * PKCS#8 envelope ourselves (a few fixed DER bytes) rather than ask operators to convert keys with openssl.
 * `@octokit/auth-app` was evaluated for this: it bundles for workerd, but its WebCrypto path refuses PKCS#1 keys
 * and its clock is not injectable, so we would have written this file anyway.
 */
import { concatBytes } from "../bytes.ts";
import { PermanentError } from "../errors.ts";

/** GitHub recommends backdating `iat` by 60 s against clock drift. */
const ISSUED_AT_BACKDATE_SECONDS = 60;
/** GitHub refuses an `exp` more than 10 minutes ahead of its clock; 9 leaves a minute for our clock to be fast. */
const LIFETIME_SECONDS = 9 * 60;

const RSA_ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const PEM = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/;

function keyError(message: string): PermanentError {
  return new PermanentError(`GITHUB_APP_PRIVATE_KEY ${message}`, {
    service: "github",
    operation: "createAppJwt",
    reason: "invalid_private_key",
  });
}

function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

function base64UrlJson(value: unknown): string {
  return base64Url(new TextEncoder().encode(JSON.stringify(value)));
}

/** A DER element: tag, definite length, contents. */
function der(tag: number, contents: Uint8Array): Uint8Array<ArrayBuffer> {
  const length: number[] = [];
  if (contents.length < 0x80) {
    length.push(contents.length);
  } else {
    for (let n = contents.length; n > 0; n = Math.floor(n / 256)) length.unshift(n % 256);
    length.unshift(0x80 | length.length);
  }
  const out = new Uint8Array(1 + length.length + contents.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(contents, 1 + length.length);
  return out;
}

// version 0, AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
const PKCS8_VERSION = Uint8Array.of(0x02, 0x01, 0x00);
const RSA_ALGORITHM_IDENTIFIER = Uint8Array.of(
  0x30,
  0x0d,
  0x06,
  0x09,
  0x2a,
  0x86,
  0x48,
  0x86,
  0xf7,
  0x0d,
  0x01,
  0x01,
  0x01,
  0x05,
  0x00,
);

/** PKCS#8 `PrivateKeyInfo` around a PKCS#1 `RSAPrivateKey` (RFC 5208 §5). */
export function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array<ArrayBuffer> {
  return der(0x30, concatBytes([PKCS8_VERSION, RSA_ALGORITHM_IDENTIFIER, der(0x04, pkcs1)]));
}

/**
 * Imports the App's private key for signing. Accepts PKCS#1 and PKCS#8 PEM, also with its line breaks written as
 * `\n` (as dashboards and `.env` files often store it). Errors never quote the key.
 */
export async function importAppPrivateKey(pem: string): Promise<CryptoKey> {
  const match = PEM.exec(pem.replace(/\\n/g, "\n"));
  if (match === null) throw keyError("is not a PEM private key");
  const [, label = "", body = ""] = match;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = base64ToBytes(body.replace(/\s+/g, ""));
  } catch {
    throw keyError("is not valid base64 between its PEM lines");
  }
  let pkcs8: Uint8Array<ArrayBuffer>;
  if (label === "RSA PRIVATE KEY") pkcs8 = pkcs1ToPkcs8(bytes);
  else if (label === "PRIVATE KEY") pkcs8 = bytes;
  else throw keyError(`is a ${label}; use the PKCS#1 (.pem) key GitHub issued, or PKCS#8`);
  try {
    return await crypto.subtle.importKey("pkcs8", pkcs8, RSA_ALGORITHM, false, ["sign"]);
  } catch {
    throw keyError("could not be read as an RSA private key");
  }
}

export interface AppJwt {
  jwt: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** A JWT that authenticates as the App itself (`iss` = App ID), valid for the next nine minutes. */
export async function signAppJwt(key: CryptoKey, appId: string, now: number): Promise<AppJwt> {
  const seconds = Math.floor(now / 1000);
  const exp = seconds + LIFETIME_SECONDS;
  // GitHub wants `iss` as the App ID number (or the client ID string).
  const iss = /^\d+$/.test(appId) ? Number(appId) : appId;
  const signingInput = `${base64UrlJson({ alg: "RS256", typ: "JWT" })}.${base64UrlJson({
    iat: seconds - ISSUED_AT_BACKDATE_SECONDS,
    exp,
    iss,
  })}`;
  const signature = await crypto.subtle.sign(RSA_ALGORITHM, key, new TextEncoder().encode(signingInput));
  return { jwt: `${signingInput}.${base64Url(new Uint8Array(signature))}`, expiresAt: exp * 1000 };
}
