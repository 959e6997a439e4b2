/**
 * The GitHub side of a runner's life: a just-in-time config to start it, lookups to find it, a delete to remove
 * it, the job it was meant for, and the runner release to run; and for reconciling, a run's jobs, a repository's
 * runs, where the App is installed, and webhook delivery logs with redelivery; a failed check run that explains a
 * refused job (check-runs.ts); and for the deep health check, calls that prove credentials without changing
 * anything (probes.ts, a runner count). PAT or GitHub App auth
 * (credentials.ts); every response parsed with zod (schemas.ts); every failure a `RetryableError` or
 * `PermanentError` (errors.ts); every rate-limit report passed to `onRateLimit` (rate-limit.ts).
 */
import { createLogger, type Logger } from "../log.ts";
import {
  type CheckRunRequest,
  type CreatedCheckRun,
  checkRunsNeedApp,
  createCheckRun,
} from "./check-runs.ts";
import { createCredentials, type GitHubAuth } from "./credentials.ts";
import { badResponse } from "./errors.ts";
import {
  createHookDeliveryApi,
  type HookDeliveryPage,
  type HookRef,
  type ListHookDeliveriesOptions,
} from "./hook-deliveries.ts";
import { getOrgInstallation, getRepoInstallation, type Installation } from "./installations.ts";
import { generateJitConfig, type JitConfigResult } from "./jit.ts";
import { type AppInfo, getApp, getRateLimit, type RateLimitInfo } from "./probes.ts";
import type { RateLimitSignal } from "./rate-limit.ts";
import { createRunnerApi, type DeleteRunnerResult, type JitRequest } from "./runners.ts";
import { type ListRunsOptions, listJobsForRun, listRuns } from "./runs.ts";
import {
  type Job,
  parseResponse,
  ReleaseSchema,
  type Runner,
  type RunnerRelease,
  type WorkflowRun,
} from "./schemas.ts";
import type { RunnerScope } from "./scope.ts";
import { createTransport, type OctokitRequest } from "./transport.ts";

export type { CheckRunRequest, CreatedCheckRun } from "./check-runs.ts";
export { canWriteChecks } from "./check-runs.ts";
export type { GitHubAuth } from "./credentials.ts";
export type { HookDeliveryPage, HookRef, ListHookDeliveriesOptions } from "./hook-deliveries.ts";
export type { Installation } from "./installations.ts";
export type { JitConfigResult } from "./jit.ts";
export type { AppInfo, RateLimitInfo } from "./probes.ts";
export type { RateLimitSignal } from "./rate-limit.ts";
export type { DeleteRunnerResult } from "./runners.ts";
export type { ListRunsOptions, RunStatusFilter } from "./runs.ts";
export type { HookDelivery, Job, Runner, RunnerRelease, WorkflowRun } from "./schemas.ts";
export type { RunnerScope } from "./scope.ts";

export interface GitHubClientOptions {
  /** `https://api.github.com`, `https://<ghes-host>/api/v3`, or an emulator. */
  baseUrl: string;
  auth: GitHubAuth;
  fetch: typeof fetch;
  /** Milliseconds since the epoch: JWT times, token expiry, `x-ratelimit-reset`. */
  now: () => number;
  logger?: Logger;
  /** Deadline of each HTTP call. */
  timeoutMs?: number;
  /**
   * Where `actions/runner` releases are read. Defaults to `baseUrl`, with the client's credentials; any other
   * base URL is called without credentials (a GHES token must never travel to github.com).
   */
  releasesBaseUrl?: string;
  userAgent?: string;
  /**
   * Called for every answer that reports a rate-limit budget and for every refusal for a rate limit, with the
   * budget's name (see `credentialKey`). Synchronous; a listener that throws is logged and ignored.
   */
  onRateLimit?: (signal: RateLimitSignal) => void;
}

export type GenerateJitConfigInput = JitRequest;

export interface GitHubClient {
  /** `created` carries the encoded JIT config: a credential, to be passed as a secret and never logged. */
  generateJitConfig(input: GenerateJitConfigInput): Promise<JitConfigResult>;
  /** Exact name match (GitHub's `name` filter, checked again here). */
  getRunnerByName(scope: RunnerScope, name: string): Promise<Runner | undefined>;
  /** `already_gone` on 404; `busy` when GitHub refuses because the runner is running a job (422). */
  deleteRunner(scope: RunnerScope, runnerId: number): Promise<DeleteRunnerResult>;
  /** Every runner of the scope (all pages), optionally only those whose name starts with `namePrefix`. */
  listRunners(scope: RunnerScope, options?: { namePrefix?: string }): Promise<Runner[]>;
  /** How many runners the scope has (one call): proves read access to its runners without touching them. */
  countRunners(scope: RunnerScope): Promise<number>;
  /** Every job of the run's latest attempt (all pages, to a bound). */
  listJobsForRun(owner: string, repo: string, runId: number): Promise<Job[]>;
  /** The repository's runs, newest first, optionally in one status (all pages, to a bound). */
  listRuns(owner: string, repo: string, options?: ListRunsOptions): Promise<WorkflowRun[]>;
  /** The App's installation on the repository's owner; undefined when it has none. App auth only. */
  getRepoInstallation(owner: string, repo: string): Promise<Installation | undefined>;
  /** The App's installation on the organization; undefined when it has none. App auth only. */
  getOrgInstallation(org: string): Promise<Installation | undefined>;
  /** One page of a hook's deliveries, newest first. */
  listHookDeliveries(hook: HookRef, options?: ListHookDeliveriesOptions): Promise<HookDeliveryPage>;
  /** Asks GitHub to send a delivery again (it answers 202 and sends it after). */
  redeliver(hook: HookRef, deliveryId: number): Promise<void>;
  getLatestRunnerRelease(): Promise<RunnerRelease>;
  /** The App, as its own JWT sees it (`GET /app`). App auth only. */
  getApp(): Promise<AppInfo>;
  /** The credential's core budget (`GET /rate_limit`, which spends none of it); 401 for a refused token. */
  getRateLimit(): Promise<RateLimitInfo>;
  /**
   * A completed, failed check run on a commit (`conclusion: "failure"`), its `external_id` the job id. App auth
   * with "Checks: write" only: a PAT client throws `app_auth_required` without calling; see `canWriteChecks`.
   */
  createCheckRun(input: CheckRunRequest): Promise<CreatedCheckRun>;
  /** What this client's installation token may do, as GitHub granted it. App auth with an installation only. */
  installationPermissions(): Promise<Readonly<Record<string, string>>>;
  /**
   * The rate-limit budget this client spends, as `onRateLimit` names it: `<API base URL>|pat:<hash>` or
   * `…|installation:<id>` (`…|app:<appId>` for an App client without an installation).
   */
  credentialKey(): Promise<string>;
  /**
   * The same client acting for a GitHub App installation (the webhook's `installation.id`); undefined keeps the
   * configured one, and PAT clients ignore it. All of them share one installation-token cache.
   */
  forInstallation(installationId: number | undefined): GitHubClient;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
const RUNNER_VERSION_TAG = /^v?(\d+\.\d+\.\d+)$/;

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const logger = (options.logger ?? createLogger()).child({ service: "github" });
  const transport = (baseUrl: string) =>
    createTransport({
      baseUrl,
      fetch: options.fetch,
      now: options.now,
      logger,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      userAgent: options.userAgent ?? "actions-on-modal",
      ...(options.onRateLimit === undefined ? {} : { onRateLimit: options.onRateLimit }),
    });
  const api = transport(options.baseUrl);
  const releasesApi =
    options.releasesBaseUrl === undefined || options.releasesBaseUrl.replace(/\/+$/, "") === api.baseUrl
      ? undefined
      : transport(options.releasesBaseUrl);
  const { auth } = options;
  const credentials = createCredentials({ auth, api, now: options.now, logger });
  const appSend = credentials.appSender();
  const lists = { baseUrl: api.baseUrl, logger };

  const make = (installationId: number | undefined): GitHubClient => {
    const send = credentials.sender(installationId);
    const runners = createRunnerApi(send, lists);
    const hooks = createHookDeliveryApi({ send, appSend, baseUrl: api.baseUrl });

    const self: GitHubClient = {
      generateJitConfig: (input) => generateJitConfig(runners, input, logger),

      async getRunnerByName(scope, name) {
        // The `name` filter is exact on github.com; a server that ignores it still gets matched here.
        return (await runners.list("getRunnerByName", scope, name)).find((runner) => runner.name === name);
      },

      deleteRunner: (scope, runnerId) => runners.delete(scope, runnerId),

      countRunners: (scope) => runners.count(scope),

      async listRunners(scope, listOptions = {}) {
        const all = await runners.list("listRunners", scope);
        const prefix = listOptions.namePrefix;
        return prefix === undefined ? all : all.filter((runner) => runner.name.startsWith(prefix));
      },

      listJobsForRun: (owner, repo, runId) => listJobsForRun(send, lists, { owner, repo, runId }),

      listRuns: (owner, repo, runOptions = {}) => listRuns(send, lists, { owner, repo }, runOptions),

      getRepoInstallation: (owner, repo) => getRepoInstallation(appSend, owner, repo),

      getOrgInstallation: (org) => getOrgInstallation(appSend, org),

      listHookDeliveries: (hook, listOptions) => hooks.list(hook, listOptions),

      redeliver: (hook, deliveryId) => hooks.redeliver(hook, deliveryId),

      credentialKey: () => credentials.credentialKey(installationId),

      getApp: () => getApp(appSend),

      getRateLimit: () => getRateLimit(send),

      installationPermissions: () => credentials.installationPermissions(installationId),

      async createCheckRun(input) {
        if (auth.kind === "token") throw checkRunsNeedApp();
        return createCheckRun(send, options.now, input);
      },

      async getLatestRunnerRelease() {
        const spec = {
          operation: "getLatestRunnerRelease",
          subject: "actions/runner",
          permission: "read access to the public repository actions/runner",
        };
        const call = (request: OctokitRequest) =>
          request("GET /repos/{owner}/{repo}/releases/latest", { owner: "actions", repo: "runner" });
        const result =
          releasesApi === undefined
            ? await send(spec, call, { required: false })
            : await releasesApi.send(
                {
                  ...spec,
                  credentials: "none are sent to this host",
                  authorization: undefined,
                  credential: "anonymous",
                },
                call,
              );
        const release = parseResponse(ReleaseSchema, "getLatestRunnerRelease", result.data);
        const version = RUNNER_VERSION_TAG.exec(release.tag_name)?.[1];
        if (version === undefined) throw badResponse("getLatestRunnerRelease");
        return { version, tagName: release.tag_name, publishedAt: release.published_at };
      },

      forInstallation(id) {
        return id === undefined || auth.kind === "token" || id === installationId ? self : make(id);
      },
    };
    return self;
  };

  return make(auth.kind === "app" ? auth.installationId : undefined);
}
