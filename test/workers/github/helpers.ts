/**
 * Shared by the GitHub client tests: an emulator namespace per test, a logger that keeps its lines, and App keys
 * generated at test time (never committed).
 */
import { inject } from "vitest";
import { createGitHubClient, type GitHubAuth, type GitHubClientOptions } from "../../../src/github/client.ts";
import { createLogger, type Logger } from "../../../src/log.ts";
import { generateAppKeyPair } from "../../emulators/github/app-keys.ts";
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

export interface AppKeys {
  /** `BEGIN RSA PRIVATE KEY`, as GitHub issues App keys. */
  pkcs1: string;
  /** `BEGIN PRIVATE KEY`. */
  pkcs8: string;
  /** `BEGIN PUBLIC KEY`, what the emulator verifies JWTs with. */
  publicKey: string;
}

export async function generateAppKeys(): Promise<AppKeys> {
  const { pkcs1, pkcs8, publicKeyPem } = await generateAppKeyPair();
  return { pkcs1, pkcs8, publicKey: publicKeyPem };
}
