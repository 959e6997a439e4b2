// Shared set-up for the launcher client tests: one launcher-emulator namespace per test, a client pointed at it
// whose log lines are kept, and a runner spec whose JIT value must never show up anywhere but the request body.
import { inject } from "vitest";
import { createLogger, type LogLevel } from "../../../src/log.ts";
import { createLauncherClient, type LauncherClientOptions } from "../../../src/sandboxes/launcher/client.ts";
import type { RunnerSandboxSpec } from "../../../src/sandboxes/provider.ts";
import { DEFAULT_LAUNCHER_SECRET } from "../../emulators/launcher/control.ts";
import { launcherEmulator } from "../../emulators/launcher/control-client.ts";

export const PROXY_TOKEN_ID = "wk-harnesstoken0001";
export const PROXY_TOKEN_SECRET = "ws-harnesssecret0001";
export const LAUNCHER_SECRET = DEFAULT_LAUNCHER_SECRET;
export const JIT = "eyJhbGciOiJIUzI1NiJ9.jit-config-for-the-runner-MUST-NOT-LEAK.c2lnbmF0dXJl";
export const IMAGE = "ghcr.io/actions/actions-runner:2.330.0";

let counter = 0;

export function harness(label: string, options: Partial<LauncherClientOptions> = {}) {
  counter += 1;
  const emulator = launcherEmulator(
    inject("launcherEmulatorUrl"),
    `${label}-${counter}-${crypto.randomUUID()}`,
  );
  const logs: Array<{ level: LogLevel; line: string }> = [];
  const client = createLauncherClient({
    url: emulator.url,
    proxyTokenId: PROXY_TOKEN_ID,
    proxyTokenSecret: PROXY_TOKEN_SECRET,
    launcherSecret: LAUNCHER_SECRET,
    fetch,
    now: Date.now,
    timeoutMs: 2_000,
    logger: createLogger({ sink: (level, line) => logs.push({ level, line }) }),
    ...options,
  });
  return { emulator, client, logs };
}

export function spec(overrides: Partial<RunnerSandboxSpec> = {}): RunnerSandboxSpec {
  return {
    appId: "actions-on-modal",
    imageId: IMAGE,
    name: "aom-1-runner",
    command: ["/home/runner/run.sh"],
    env: { ACTIONS_RUNNER_INPUT_JITCONFIG: JIT, RUNNER_ALLOW_RUNASROOT: "1" },
    cpu: 2,
    memoryMiB: 4096,
    timeoutSeconds: 3600,
    tags: { "job-id": "1", repository: "octo/hello", "runner-name": "aom-1-runner" },
    ...overrides,
  };
}

/** Runs a promise that must fail, and returns what it threw. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

/** Hex HMAC-SHA256, computed here rather than with the client's signer: the test must not trust what it tests. */
export async function hmacHex(secret: string, message: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const bytes = typeof message === "string" ? encoder.encode(message) : message;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
