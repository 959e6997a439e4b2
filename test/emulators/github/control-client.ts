/**
 * A typed handle on one namespace of the GitHub emulator, for tests (in workerd or Node): its API base URL and
 * its control API. Each test takes its own namespace so that test files can run in parallel.
 */
import * as z from "zod/mini";
import {
  type Failure,
  type RecordedRequest,
  RecordedRequestSchema,
  type RunnerState,
  RunnerStateSchema,
  type RunnerUpdate,
  type Seed,
} from "./control.ts";

const RequestsSchema = z.object({ requests: z.array(RecordedRequestSchema) });
const RunnersSchema = z.object({ runners: z.array(RunnerStateSchema) });

export interface GitHubEmulatorHandle {
  /** The API base URL of this namespace, to give a client as `baseUrl`. */
  readonly url: string;
  seed(seed: Seed): Promise<void>;
  fail(failure: Failure | Failure[]): Promise<void>;
  /** Every API request so far; `secrets: true` keeps the `authorization` headers. */
  requests(options?: { secrets?: boolean }): Promise<RecordedRequest[]>;
  runners(): Promise<RunnerState[]>;
  updateRunner(runnerId: number, update: RunnerUpdate): Promise<void>;
  /** Moves the emulator's clock for this namespace (token expiry, JWT `iat`/`exp` checks). */
  setClock(offsetSeconds: number): Promise<void>;
  /** Invalidates every installation token issued so far (an App suspended or reinstalled). */
  revokeInstallationTokens(): Promise<void>;
  reset(): Promise<void>;
}

export function githubEmulator(emulatorUrl: string, namespace: string): GitHubEmulatorHandle {
  const url = `${emulatorUrl.replace(/\/+$/, "")}/ns/${namespace}`;
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}/_emulator${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
  return {
    url,
    async seed(seed) {
      await control("POST", "/seed", seed);
    },
    async fail(failure) {
      await control("POST", "/failures", failure);
    },
    async requests(options = {}) {
      const body = await control("GET", `/requests${options.secrets ? "?secrets=true" : ""}`);
      return RequestsSchema.parse(body).requests;
    },
    async runners() {
      return RunnersSchema.parse(await control("GET", "/runners")).runners;
    },
    async updateRunner(runnerId, update) {
      await control("POST", `/runners/${runnerId}`, update);
    },
    async setClock(offsetSeconds) {
      await control("POST", "/clock", { offsetSeconds });
    },
    async revokeInstallationTokens() {
      await control("POST", "/installation-tokens/revoke");
    },
    async reset() {
      await control("POST", "/reset");
    },
  };
}
