/**
 * The launcher's request signature (modal/launcher.py `check_signature`): HMAC-SHA256, keyed with LAUNCHER_SECRET,
 * over `<unix seconds>.<route>.<raw body>`, sent as `x-launcher-timestamp` and `x-launcher-signature: sha256=<hex>`.
 * The timestamp bounds a captured request's useful life to the launcher's 300 s window; the route stops a body
 * signed for one endpoint from being sent to another.
 */
export const TIMESTAMP_HEADER = "x-launcher-timestamp";
export const SIGNATURE_HEADER = "x-launcher-signature";

export interface LauncherSigner {
  /** The two headers for one request. `nowMs` is the caller's clock. */
  headers(route: string, body: string, nowMs: number): Promise<Record<string, string>>;
}

const encoder = new TextEncoder();

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function createLauncherSigner(secret: string): LauncherSigner {
  // Imported once per client: an isolate signs every call with the same key.
  let key: Promise<CryptoKey> | undefined;
  return {
    async headers(route, body, nowMs) {
      key ??= crypto.subtle.importKey(
        "raw",
        encoder.encode(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      const timestamp = String(Math.floor(nowMs / 1000));
      const mac = await crypto.subtle.sign(
        "HMAC",
        await key,
        encoder.encode(`${timestamp}.${route}.${body}`),
      );
      return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `sha256=${hex(mac)}` };
    },
  };
}
