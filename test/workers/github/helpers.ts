/**
 * Shared by the GitHub client tests: an emulator namespace per test, a logger that keeps its lines, and App keys
 * generated at test time (never committed).
 */
import { inject } from "vitest";
import { createGitHubClient, type GitHubAuth, type GitHubClientOptions } from "../../../src/github/client.ts";
import { createLogger, type Logger } from "../../../src/log.ts";
import { type GitHubEmulatorHandle, githubEmulator } from "../../emulators/github/control-client.ts";

export const PAT = "ghp_0123456789abcdefABCDEF0123456789abcd";

let counter = 0;

/** A fresh emulator namespace; the name says which test owns it. */
export function emulatorFor(label: string): GitHubEmulatorHandle {
  counter += 1;
  const name = `${label}-${counter}-${crypto.randomUUID().slice(0, 8)}`.replace(/[^A-Za-z0-9._-]/g, "-");
  return githubEmulator(inject("githubEmulatorUrl"), name);
}

export interface CapturedLog {
  logger: Logger;
  lines: string[];
  /** Every line, and every message of `errors`, joined: what must never hold a secret. */
  text(errors?: unknown[]): string;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const logger = createLogger({ sink: (_level, line) => lines.push(line) });
  return {
    logger,
    lines,
    text: (errors = []) =>
      [
        ...lines,
        ...errors.map((error) =>
          error instanceof Error ? `${error.message} ${String(error.stack)}` : String(error),
        ),
      ].join("\n"),
  };
}

export function client(
  emulator: GitHubEmulatorHandle,
  overrides: Partial<GitHubClientOptions> & { auth?: GitHubAuth } = {},
) {
  return createGitHubClient({
    baseUrl: emulator.url,
    auth: { kind: "token", token: PAT },
    fetch,
    now: Date.now,
    timeoutMs: 2_000,
    logger: captureLog().logger,
    ...overrides,
  });
}

/** What a call rejected with (a test fails if it resolved). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

// ---------------------------------------------------------------------------------------------------------------
// App keys

function pem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Reads one DER element at `offset`: its tag, where its contents start, and where it ends. */
function derElement(bytes: Uint8Array, offset: number): { tag: number; start: number; end: number } {
  const tag = bytes[offset] ?? 0;
  let length = bytes[offset + 1] ?? 0;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[start + i] ?? 0);
    start += count;
  }
  return { tag, start, end: start + length };
}

/** The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`: version, algorithm, then the octet string. */
function pkcs8ToPkcs1(pkcs8: Uint8Array): Uint8Array {
  const outer = derElement(pkcs8, 0);
  const version = derElement(pkcs8, outer.start);
  const algorithm = derElement(pkcs8, version.end);
  const key = derElement(pkcs8, algorithm.end);
  if (outer.tag !== 0x30 || key.tag !== 0x04) throw new Error("unexpected PKCS#8 layout");
  return pkcs8.slice(key.start, key.end);
}

export interface AppKeys {
  /** `BEGIN RSA PRIVATE KEY`, as GitHub issues App keys. */
  pkcs1: string;
  /** `BEGIN PRIVATE KEY`. */
  pkcs8: string;
  /** `BEGIN PUBLIC KEY`, what the emulator verifies JWTs with. */
  publicKey: string;
}

export async function generateAppKeys(): Promise<AppKeys> {
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
    publicKey: pem("PUBLIC KEY", new Uint8Array(spki)),
  };
}
