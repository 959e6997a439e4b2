/**
 * App private keys the way GitHub hands them out: RSA 2048 in PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`). WebCrypto
 * only exports PKCS#8, whose `PrivateKeyInfo` wraps the PKCS#1 `RSAPrivateKey` in an octet string; a short DER
 * walk takes it out again. No Node imports: tests in workerd generate keys with this too.
 */

/** One DER element at `offset`: its tag, where its contents start, and where it ends (definite lengths only). */
function derElement(bytes: Uint8Array, offset: number): { tag: number; start: number; end: number } {
  const tag = bytes[offset] ?? 0;
  let length = bytes[offset + 1] ?? 0;
  let start = offset + 2;
  // Long form: the low bits say how many length bytes follow, big-endian.
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[start + i] ?? 0);
    start += count;
  }
  return { tag, start, end: start + length };
}

/**
 * RFC 5208 §5: `PrivateKeyInfo ::= SEQUENCE { version, privateKeyAlgorithm, privateKey OCTET STRING, … }`; for
 * rsaEncryption the octet string holds the PKCS#1 `RSAPrivateKey` (RFC 8017 A.1.2) as it is.
 */
export function pkcs8ToPkcs1(pkcs8: Uint8Array): Uint8Array {
  const outer = derElement(pkcs8, 0);
  const version = derElement(pkcs8, outer.start);
  const algorithm = derElement(pkcs8, version.end);
  const key = derElement(pkcs8, algorithm.end);
  if (outer.tag !== 0x30 || version.tag !== 0x02 || algorithm.tag !== 0x30 || key.tag !== 0x04) {
    throw new Error("unexpected PKCS#8 layout");
  }
  return pkcs8.slice(key.start, key.end);
}

/** PEM armour: base64 in 64-character lines between BEGIN and END lines. */
export function pem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export interface AppKeyPair {
  /** `BEGIN RSA PRIVATE KEY`, as GitHub issues App keys. */
  pkcs1: string;
  /** `BEGIN PRIVATE KEY`. */
  pkcs8: string;
  /** `BEGIN PUBLIC KEY` (SPKI). */
  publicKeyPem: string;
  /** What GitHub keeps to verify the App's JWTs. */
  publicKey: CryptoKey;
}

export async function generateAppKeyPair(): Promise<AppKeyPair> {
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
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", pair.privateKey);
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  if (!(pkcs8 instanceof ArrayBuffer) || !(spki instanceof ArrayBuffer)) throw new Error("expected DER");
  return {
    pkcs1: pem("RSA PRIVATE KEY", pkcs8ToPkcs1(new Uint8Array(pkcs8))),
    pkcs8: pem("PRIVATE KEY", new Uint8Array(pkcs8)),
    publicKeyPem: pem("PUBLIC KEY", new Uint8Array(spki)),
    publicKey: pair.publicKey,
  };
}
