/**
 * The Cloudflare Access emulator publishes what Access publishes (Cloudflare's "Validate JWTs" page): `keys` as
 * RS256 JWKs, `public_cert` and `public_certs` as PEM certificates of the same keys. Checked here with Node's own
 * X.509 and crypto code, independently of the emulator's DER and WebCrypto code, so a bug shared by the two cannot
 * hide.
 */
import { createPublicKey, verify, X509Certificate } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { AccessCertsSchema } from "../emulators/access/control.ts";
import { accessEmulator } from "../emulators/access/control-client.ts";

let counter = 0;
const namespace = () => accessEmulator(inject("accessEmulatorUrl"), `access-${++counter}-${Date.now()}`);

async function certs(url: string) {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/json");
  return AccessCertsSchema.parse(await response.json());
}

function verifies(token: string, jwk: { kty: string; n: string; e: string }): boolean {
  const [header = "", claims = "", signature = ""] = token.split(".");
  const key = createPublicKey({ key: jwk, format: "jwk" });
  return verify("sha256", Buffer.from(`${header}.${claims}`), key, Buffer.from(signature, "base64url"));
}

describe("the Access emulator's certs", () => {
  it("lists a current and a previous key, as JWKs and as certificates of the same keys", async () => {
    const access = namespace();
    const document = await certs(access.certsUrl);
    const state = await access.keys();
    expect(document.keys.map((key) => key.kid)).toEqual([state.current, state.previous]);
    expect(document.public_cert.kid).toBe(state.current);
    expect(document.public_certs.map((cert) => cert.kid)).toEqual([state.current, state.previous]);
    for (const jwk of document.keys) {
      expect(jwk.kid).toMatch(/^[0-9a-f]{64}$/);
      expect(jwk).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
      const pem = document.public_certs.find((cert) => cert.kid === jwk.kid)?.cert ?? "";
      expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);
      const certificate = new X509Certificate(pem);
      expect(certificate.verify(certificate.publicKey)).toBe(true);
      expect(certificate.publicKey.export({ format: "jwk" })).toEqual({ kty: "RSA", n: jwk.n, e: jwk.e });
      expect(new Date(certificate.validTo).getTime()).toBeGreaterThan(Date.now());
    }
  });

  it("counts fetches and answers an injected failure", async () => {
    const access = namespace();
    await access.failCerts({ status: 503 });
    expect((await fetch(access.certsUrl)).status).toBe(503);
    expect((await fetch(access.certsUrl)).status).toBe(200);
    expect((await access.keys()).fetches).toBe(2);
  });
});

describe("tokens and rotation", () => {
  it("signs exactly the claims given, with the current key by default", async () => {
    const access = namespace();
    const claims = { aud: ["a".repeat(64)], iss: "https://team.cloudflareaccess.com", exp: 2_000_000_000 };
    const token = await access.sign(claims);
    const [header = "", body = ""] = token.split(".");
    const { current } = await access.keys();
    expect(JSON.parse(Buffer.from(header, "base64url").toString())).toEqual({
      alg: "RS256",
      kid: current,
      typ: "JWT",
    });
    expect(JSON.parse(Buffer.from(body, "base64url").toString())).toEqual(claims);
    const jwk = (await certs(access.certsUrl)).keys.find((key) => key.kid === current);
    expect(jwk !== undefined && verifies(token, jwk)).toBe(true);
  });

  it("rotates as Access does: the current key becomes the previous one, the previous one is dropped", async () => {
    const access = namespace();
    const before = await access.keys();
    const after = await access.rotate();
    expect(after.previous).toBe(before.current);
    expect(after.retired).toEqual([before.previous]);
    expect((await certs(access.certsUrl)).keys.map((key) => key.kid)).toEqual([
      after.current,
      before.current,
    ]);
    // A retired key still signs (a token Access would no longer vouch for); an unknown one does not.
    expect(await access.sign({ sub: "x" }, { kid: before.previous ?? "" })).toMatch(
      /^[\w-]+\.[\w-]+\.[\w-]+$/,
    );
    await expect(access.sign({ sub: "x" }, { kid: "0".repeat(64) })).rejects.toThrow(/404/);
  });
});
