/**
 * Our App JWT code checked against OpenSSL (Node's crypto), an implementation it shares nothing with.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { importAppPrivateKey, pkcs1ToPkcs8, signAppJwt } from "../../src/github/jwt.ts";

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
}

describe("PKCS#1 keys", () => {
  it.each([1024, 2048])("wraps a %i-bit PKCS#1 key into exactly the PKCS#8 OpenSSL produces", (bits) => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: bits,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    const expected = createPrivateKey(privateKey).export({ type: "pkcs8", format: "der" });
    expect(Buffer.from(pkcs1ToPkcs8(new Uint8Array(pemBody(privateKey))))).toEqual(expected);
  });
});

describe("signAppJwt", () => {
  it("signs an RS256 JWT that OpenSSL verifies, with GitHub's claims", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    });
    const now = Date.UTC(2026, 3, 1, 12, 0, 0);
    const { jwt, expiresAt } = await signAppJwt(await importAppPrivateKey(privateKey), "123456", now);

    const [header = "", payload = "", signature = ""] = jwt.split(".");
    expect(JSON.parse(Buffer.from(header, "base64url").toString())).toEqual({ alg: "RS256", typ: "JWT" });
    expect(JSON.parse(Buffer.from(payload, "base64url").toString())).toEqual({
      iat: now / 1000 - 60,
      exp: now / 1000 + 540,
      iss: 123456,
    });
    expect(expiresAt).toBe(now + 540_000);
    const valid = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      createPublicKey(publicKey),
      Buffer.from(signature, "base64url"),
    );
    expect(valid).toBe(true);
  });
});
