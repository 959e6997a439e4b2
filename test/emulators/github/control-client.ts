/**
 * A typed handle on one namespace of the GitHub emulator, for tests (in workerd or Node): its API base URL and
 * its control API. Each test takes its own namespace so that test files can run in parallel.
 */
import * as z from "zod/mini";
import {
  type AppState,
  AppStateSchema,
  type CheckRunState,
  CheckRunStateSchema,
  type CredentialUsage,
  CredentialUsageSchema,
  type DeliverySend,
  type DeliveryState,
  DeliveryStateSchema,
  type Failure,
  type HookSeed,
  type RecordedRequest,
  RecordedRequestSchema,
  type RunnerState,
  RunnerStateSchema,
  type RunnerUpdate,
  type Seed,
  type SettingsUpdate,
} from "./control.ts";

const RequestsSchema = z.object({ requests: z.array(RecordedRequestSchema) });
const RunnersSchema = z.object({ runners: z.array(RunnerStateSchema) });
const HookIdSchema = z.object({ id: z.int() });
const DeliveriesSchema = z.object({ deliveries: z.array(DeliveryStateSchema) });
const DeliverySchema = z.object({ delivery: DeliveryStateSchema });
const UsageSchema = z.object({ credentials: z.array(CredentialUsageSchema) });
const AppsSchema = z.object({ apps: z.array(AppStateSchema) });
const CheckRunsSchema = z.object({ checkRuns: z.array(CheckRunStateSchema) });

export interface ManifestSubmission {
  /** The manifest object, sent as the form field `manifest` (JSON). */
  manifest: unknown;
  /** Post to the organization's page; the signed-in user's (`octocat`) otherwise. */
  org?: string;
  state?: string;
}

export interface ManifestAnswer {
  status: number;
  /** Where GitHub sends the browser (302), with `code` and `state` in its query. */
  location: string | null;
  code: string | null;
  state: string | null;
  /** The page's text: GitHub's complaint when it refuses the manifest. */
  body: string;
}

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
  /** Stops this namespace's clock at `at` (ms since the epoch), for tests that drive time themselves. */
  fixClock(at: number): Promise<void>;
  /** Invalidates every installation token issued so far (an App suspended or reinstalled). */
  revokeInstallationTokens(): Promise<void>;
  /** Job routing, the payload template of job deliveries, the delivery timeout. */
  settings(update: SettingsUpdate): Promise<void>;
  /** Cancels a job as GitHub does (queued: no runner; in progress: its runner goes too). */
  cancelJob(jobId: number): Promise<void>;
  /** A repository, organization or App hook; the id to find its deliveries by. */
  createHook(hook: HookSeed): Promise<number>;
  /** The hook's delivery log, oldest first, with the requests sent and the answers received. */
  hookDeliveries(hookId: number): Promise<DeliveryState[]>;
  /** Sends one delivery to the hook (to its URL if it has one) and returns its log entry. */
  sendDelivery(hookId: number, delivery: DeliverySend): Promise<DeliveryState>;
  /** Waits until deliveries still being sent (REST redeliveries) are done. */
  settleDeliveries(): Promise<void>;
  /** Per credential: calls accepted, refused by either limit, and made while told to wait. */
  rateLimits(): Promise<CredentialUsage[]>;
  apps(): Promise<AppState[]>;
  /** Every check run created in this namespace, oldest first. */
  checkRuns(): Promise<CheckRunState[]>;
  /** The web page a manifest form is posted to (on GHES outside `/api/v3`, as here). */
  manifestPageUrl(org?: string): string;
  /** Posts a manifest form as a browser would, without following the redirect. */
  submitManifest(submission: ManifestSubmission): Promise<ManifestAnswer>;
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
  const pageUrl = (org?: string) =>
    org === undefined
      ? `${url}/settings/apps/new`
      : `${url}/organizations/${encodeURIComponent(org)}/settings/apps/new`;
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
    async fixClock(at) {
      await control("POST", "/clock", { at });
    },
    async setClock(offsetSeconds) {
      await control("POST", "/clock", { offsetSeconds });
    },
    async revokeInstallationTokens() {
      await control("POST", "/installation-tokens/revoke");
    },
    async settings(update) {
      await control("POST", "/settings", update);
    },
    async cancelJob(jobId) {
      await control("POST", `/jobs/${jobId}/cancel`);
    },
    async createHook(hook) {
      return HookIdSchema.parse(await control("POST", "/hooks", hook)).id;
    },
    async hookDeliveries(hookId) {
      return DeliveriesSchema.parse(await control("GET", `/hooks/${hookId}/deliveries`)).deliveries;
    },
    async sendDelivery(hookId, delivery) {
      return DeliverySchema.parse(await control("POST", `/hooks/${hookId}/deliveries`, delivery)).delivery;
    },
    async settleDeliveries() {
      await control("POST", "/deliveries/settle");
    },
    async rateLimits() {
      return UsageSchema.parse(await control("GET", "/rate-limits")).credentials;
    },
    async apps() {
      return AppsSchema.parse(await control("GET", "/apps")).apps;
    },
    async checkRuns() {
      return CheckRunsSchema.parse(await control("GET", "/check-runs")).checkRuns;
    },
    manifestPageUrl: pageUrl,
    async submitManifest(submission) {
      const page = new URL(pageUrl(submission.org));
      if (submission.state !== undefined) page.searchParams.set("state", submission.state);
      const response = await fetch(page, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ manifest: JSON.stringify(submission.manifest) }).toString(),
        redirect: "manual",
      });
      const location = response.headers.get("location");
      const query = location === null ? undefined : new URL(location).searchParams;
      return {
        status: response.status,
        location,
        code: query?.get("code") ?? null,
        state: query?.get("state") ?? null,
        body: await response.text(),
      };
    },
    async reset() {
      await control("POST", "/reset");
    },
  };
}
