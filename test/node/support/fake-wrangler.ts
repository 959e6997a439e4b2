/**
 * A Cloudflare account as test/node/fixtures/fake-wrangler.mjs sees it (WRANGLER_BIN points there): its state in
 * a JSON file a second run reads back, and the log of every wrangler call with its argv, stdin and environment.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./run-script.ts";

export const FAKE_WRANGLER = join(PROJECT_ROOT, "test/node/fixtures/fake-wrangler.mjs");
export const QUEUES = ["actions-on-modal-jobs", "actions-on-modal-jobs-dlq"];

export interface WranglerCall {
  argv: string[];
  stdin: string;
  env: Record<string, string | undefined>;
}

export interface FakeState {
  loggedIn: boolean;
  email: string;
  accounts: { id: string; name: string }[];
  subdomain: string;
  queues: string[];
  workerExists: boolean;
  secrets: string[];
  requiredQueues: string[];
  /** `secret bulk` fails as the API's refusal does. */
  secretBulkFails?: boolean;
}

export interface FakeAccount {
  /** A temporary directory of the account's own. */
  dir: string;
  calls(): WranglerCall[];
  state(): FakeState;
  /** What a script needs in its environment to use this account's wrangler. */
  env: Record<string, string>;
}

/** A fresh Cloudflare account: logged in, one unrelated queue, no Worker. */
export function fakeAccount(overrides: Partial<FakeState> = {}): FakeAccount {
  const dir = mkdtempSync(join(tmpdir(), "fake-wrangler-"));
  const statePath = join(dir, "state.json");
  const logPath = join(dir, "calls.jsonl");
  const state: FakeState = {
    loggedIn: true,
    email: "ops@example.com",
    accounts: [{ id: "0123456789abcdef0123456789abcdef", name: "Octo Ops" }],
    subdomain: "octo-ops",
    queues: ["another-teams-queue"],
    workerExists: false,
    secrets: [],
    requiredQueues: QUEUES,
    ...overrides,
  };
  writeFileSync(statePath, JSON.stringify(state));
  writeFileSync(logPath, "");
  return {
    dir,
    calls: () =>
      readFileSync(logPath, "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line)),
    state: () => JSON.parse(readFileSync(statePath, "utf8")),
    env: { WRANGLER_BIN: FAKE_WRANGLER, FAKE_WRANGLER_STATE: statePath, FAKE_WRANGLER_LOG: logPath },
  };
}
