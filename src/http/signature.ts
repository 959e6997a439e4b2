/**
 * GitHub's `X-Hub-Signature-256`: `sha256=` and the lowercase hex HMAC-SHA256 of the raw body. The header's form
 * is checked first (anything else is not GitHub, and must not throw); the MAC is then checked with
 * `crypto.subtle.verify`, which compares in constant time. Several secrets may be accepted during a rotation.
 */
const SIGNATURE = /^sha256=([0-9a-f]{64})$/;
const encoder = new TextEncoder();

// Importing a key costs more than the HMAC itself for small bodies; secrets rarely change within an isolate.
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    if (keys.size > 8) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export type SignatureCheck = "valid" | "missing" | "malformed" | "mismatch";

export async function checkSignature(
  secrets: readonly string[],
  body: Uint8Array,
  header: string | null | undefined,
): Promise<SignatureCheck> {
  if (header === null || header === undefined || header === "") return "missing";
  const match = SIGNATURE.exec(header);
  if (match?.[1] === undefined) return "malformed";
  const mac = hexToBytes(match[1]);
  for (const secret of secrets) {
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, body)) return "valid";
  }
  return "mismatch";
}
