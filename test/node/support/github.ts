/**
 * Shared by the Node tests of the GitHub emulator: a namespace per test, App keys and JWTs made with Node's
 * crypto (independently of the client's WebCrypto code, so a bug shared by client and emulator cannot hide), a
 * plain REST caller, and a loopback receiver that records what a webhook sender posts to it.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { inject } from "vitest";
import { type GitHubEmulatorHandle, githubEmulator } from "../../emulators/github/control-client.ts";
import { serveOnLoopback } from "../../emulators/loopback-server.ts";

export const PAT = "ghp_0123456789abcdefABCDEF0123456789abcd";

let counter = 0;

export function namespace(label: string): GitHubEmulatorHandle {
  counter += 1;
  return githubEmulator(inject("githubEmulatorUrl"), `${label}-${counter}-${process.pid}`);
}

export interface NodeAppKeys {
  privateKey: string;
  publicKey: string;
}

export function appKeys(): NodeAppKeys {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
}

/** A JWT for the App, valid now (or with the claims given). */
export function appJwt(
  privateKey: string,
  iss: number | string,
  claims: Record<string, unknown> = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iat: now - 60, exp: now + 300, iss, ...claims })}`;
  return `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
  /** The body as text, for `toContain`. */
  text: string;
}

/** One REST call as a client would make it; `authorization` is the whole header value. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { authorization?: string; body?: unknown } = {},
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      "user-agent": "emulator-test",
      ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? undefined : JSON.parse(text),
    headers: response.headers,
    text,
  };
}

export interface ReceivedDelivery {
  headers: Record<string, string>;
  body: string;
}

export interface Receiver {
  url: string;
  received: ReceivedDelivery[];
  /** The status the next deliveries get (default 200). */
  answer(status: number, delayMs?: number): void;
  close(): Promise<void>;
}

/** A webhook receiver on loopback: records each POST and answers with the status it is told. */
export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedDelivery[] = [];
  let status = 200;
  let delayMs = 0;
  const server = await serveOnLoopback((request) => {
    received.push({ headers: request.headers, body: new TextDecoder().decode(request.body) });
    return { status, headers: { "content-type": "text/plain" }, body: `answered ${status}`, delayMs };
  });
  return {
    url: `${server.url}/webhook`,
    received,
    answer(next, nextDelayMs = 0) {
      status = next;
      delayMs = nextDelayMs;
    },
    close: () => server.close(),
  };
}
