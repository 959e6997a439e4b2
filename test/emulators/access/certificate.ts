/**
 * A self-signed X.509 certificate for a signing key, as Cloudflare Access publishes its keys in PEM besides the JWKs
 * (`public_cert`, `public_certs`). Built with a few DER encoders and WebCrypto, no Node imports, so the emulator
 * stays runtime-neutral. Only what a certificate needs (RFC 5280 §4.1): version 3, serial, sha256WithRSAEncryption,
 * one common name as issuer and subject, a validity window, the key's SubjectPublicKeyInfo.
 */
import { pem } from "../github/app-keys.ts";

function length(size: number): number[] {
  if (size < 0x80) return [size];
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const size = contents.reduce((sum, part) => sum + part.length, 0);
  const head = [tag, ...length(size)];
  const out = new Uint8Array(head.length + size);
  out.set(head, 0);
  let offset = head.length;
  for (const part of contents) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const sequence = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts);
const utf8 = (text: string) => tlv(0x0c, new TextEncoder().encode(text));
const NULL = new Uint8Array([0x05, 0x00]);

/** A positive INTEGER from big-endian bytes (a leading zero keeps the sign bit clear). */
function integer(bytes: Uint8Array): Uint8Array {
  const first = bytes[0] ?? 0;
  return tlv(0x02, first & 0x80 ? new Uint8Array([0, ...bytes]) : bytes);
}

function oid(dotted: string): Uint8Array {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift(value % 128);
      if (value < 128) break;
    }
    bytes.push(...groups.map((group, index) => (index < groups.length - 1 ? group | 0x80 : group)));
  }
  return tlv(0x06, new Uint8Array(bytes));
}

/** UTCTime (`YYMMDDHHMMSSZ`): what RFC 5280 asks for up to 2049. */
function utcTime(time: number): Uint8Array {
  const text = new Date(time).toISOString().replace(/[-:T]/g, "").slice(2, 14);
  return tlv(0x17, new TextEncoder().encode(`${text}Z`));
}

const SHA256_WITH_RSA = () => sequence(oid("1.2.840.113549.1.1.11"), NULL);
const COMMON_NAME = "2.5.4.3";

export async function selfSignedCertificate(options: {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  commonName: string;
  notBefore: number;
  notAfter: number;
}): Promise<string> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", options.publicKey));
  const serial = crypto.getRandomValues(new Uint8Array(12));
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8(options.commonName))));
  const tbs = sequence(
    tlv(0xa0, integer(new Uint8Array([2]))),
    integer(serial),
    SHA256_WITH_RSA(),
    name,
    sequence(utcTime(options.notBefore), utcTime(options.notAfter)),
    name,
    spki,
  );
  const signature = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", options.privateKey, tbs));
  // BIT STRING: a leading byte counts the unused bits of the last byte (none).
  const certificate = sequence(tbs, SHA256_WITH_RSA(), tlv(0x03, new Uint8Array([0]), signature));
  return pem("CERTIFICATE", certificate);
}
