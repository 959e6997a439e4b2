/**
 * One check of the deep health check: a name (`github.app`, `modal.auth`, `github.runners:acme/api`), whether it
 * passed, what was seen, and — when it failed — what to change. Texts name variables, repositories and rules,
 * never a value of a secret; run.ts scrubs every configured secret from them once more before they leave.
 */
import type { Logger } from "../log.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** What to change; only on failures. */
  fix?: string;
}

export interface CheckReport {
  ok: boolean;
  /** When the checks ran (ISO 8601). */
  checkedAt: string;
  checks: CheckResult[];
}

/** What the checks call out with: injected, so tests point them at emulators and drive the clock. */
export interface CheckDeps {
  fetch: typeof fetch;
  now: () => number;
  logger: Logger;
}

/** A health check must answer in seconds, not wait out the dispatcher's longer deadlines and retries. */
export const CHECK_TIMEOUT_MS = 5_000;

export const passed = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });

export const failed = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  ok: false,
  detail,
  fix,
});

/** The message of whatever a call threw: our errors' messages are written to be shown (no values in them). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
