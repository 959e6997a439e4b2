// Shared set-up for client tests: one emulator namespace per test, a client pointed at it with fast retries,
// and a runner spec. The JIT value is long enough for the client's leak checks to treat it as a secret.
import { inject } from "vitest";
import { createLogger, type LogLevel } from "../../../src/log.ts";
import { createModalClient, type ModalClientOptions } from "../../../src/sandboxes/direct/client.ts";
import type { RunnerSandboxSpec } from "../../../src/sandboxes/provider.ts";
import { modalEmulator } from "../../emulators/modal/control-client.ts";

export const TOKEN_ID = "ak-harnesstoken0001";
export const TOKEN_SECRET = "as-harnesssecret0001";
export const JIT = "eyJhbGciOiJIUzI1NiJ9.jit-config-for-the-runner-MUST-NOT-LEAK.c2lnbmF0dXJl";
export const IMAGE = "ghcr.io/actions/actions-runner:2.330.0";

export function harness(name: string, options: Partial<ModalClientOptions> = {}) {
  const emulator = modalEmulator(inject("modalEmulatorUrl"), `${name}-${crypto.randomUUID()}`);
  const logs: Array<{ level: LogLevel; line: string }> = [];
  const client = createModalClient({
    serverUrl: emulator.url,
    tokenId: TOKEN_ID,
    tokenSecret: TOKEN_SECRET,
    fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    logger: createLogger({ sink: (level, line) => logs.push({ level, line }) }),
    ...options,
  });
  return { emulator, client, logs };
}

export function spec(
  appId: string,
  imageId: string,
  overrides: Partial<RunnerSandboxSpec> = {},
): RunnerSandboxSpec {
  return {
    appId,
    imageId,
    name: "aom-1-runner",
    command: ["/home/runner/run.sh"],
    env: { ACTIONS_RUNNER_INPUT_JITCONFIG: JIT, RUNNER_ALLOW_RUNASROOT: "1" },
    cpu: 2,
    memoryMiB: 4096,
    timeoutSeconds: 3600,
    tags: { "aom-runner": "aom-1-runner", "aom-job": "1" },
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
