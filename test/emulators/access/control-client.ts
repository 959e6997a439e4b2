/**
 * A typed handle on one namespace of the Cloudflare Access emulator, for tests (in workerd or Node): the URL to give
 * the Worker as ACCESS_CERTS_URL, and the control API. Each test file takes its own namespace.
 */
import {
  CERTS_PATH,
  type CertsFailure,
  type KeysState,
  KeysStateSchema,
  SignAnswerSchema,
  type SignRequest,
} from "./control.ts";

export interface AccessEmulatorHandle {
  /** What ACCESS_CERTS_URL should be: this namespace's `/cdn-cgi/access/certs`. */
  readonly certsUrl: string;
  /** A `Cf-Access-Jwt-Assertion` of exactly these claims. */
  sign(claims: SignRequest["claims"], options?: Omit<SignRequest, "claims">): Promise<string>;
  rotate(): Promise<KeysState>;
  keys(): Promise<KeysState>;
  failCerts(failure: CertsFailure): Promise<void>;
  reset(): Promise<void>;
}

export function accessEmulator(emulatorUrl: string, namespace: string): AccessEmulatorHandle {
  const base = `${emulatorUrl.replace(/\/+$/, "")}/ns/${namespace}`;
  const control = async (method: "GET" | "POST", operation: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${base}/_emulator/${operation}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Access emulator ${operation}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
  return {
    certsUrl: `${base}${CERTS_PATH}`,
    async sign(claims, options = {}) {
      return SignAnswerSchema.parse(await control("POST", "sign", { claims, ...options })).token;
    },
    async rotate() {
      return KeysStateSchema.parse(await control("POST", "rotate"));
    },
    async keys() {
      return KeysStateSchema.parse(await control("GET", "keys"));
    },
    async failCerts(failure) {
      await control("POST", "fail", failure);
    },
    async reset() {
      await control("POST", "reset");
    },
  };
}
