/**
 * The GitHub emulator's control API (`{base}/_emulator/...`, JSON): what tests send to seed state, inject
 * failures and move runners, and what they read back. Shared by the emulator (which validates with these
 * schemas) and the test helper in control-client.ts. No Node imports: tests in workerd use it too.
 *
 * Defaults of a fresh namespace, lenient until seeded:
 * - every repository and organization exists until `repositories` / `organizations` are seeded; repositories are
 *   private and owned by organizations unless `repositoryMetadata` says otherwise;
 * - every well-formed PAT (`ghp_…`, `github_pat_…`) is accepted, with every permission, until `tokens` are seeded;
 * - runner group 1 exists; `actions/runner` has a release `v2.334.0`;
 * - every credential (each PAT, installation, App, and anonymous callers) has its own 5,000 requests an hour
 *   (`rateLimit` sets that starting budget); no secondary limit until `secondaryRateLimit` is seeded;
 * - jobs stay where tests put them (`settings.assignJobs` off), no hooks, no deliveries.
 * App JWTs and installation tokens are always checked: seed `apps` (with their public keys) and `installations`.
 *
 * Endpoints, all JSON, under the namespace's base URL:
 * - `GET  /_emulator/requests[?secrets=true]` → `{ requests: RecordedRequest[] }`
 * - `POST /_emulator/seed` (`Seed`) — merged into the namespace; jobs seeded as (newly) queued are announced to
 *   the hooks that see them and routed to runners when `assignJobs` is on
 * - `POST /_emulator/failures` (`Failure` or `Failure[]`; alias `/_emulator/fail`)
 * - `GET  /_emulator/runners` → `{ runners: RunnerState[] }`; `POST /_emulator/runners/{id}` (`RunnerUpdate`)
 * - `POST /_emulator/jobs/{id}/cancel` — queued: completed/cancelled without a runner; in progress: also its
 *   (ephemeral) runner removed; 409 once completed
 * - `POST /_emulator/settings` (`SettingsUpdate`) → `{ settings }`
 * - `POST /_emulator/hooks` (`HookSeed`) → `{ id }` — creates a hook, or replaces the one with that id
 * - `GET  /_emulator/hooks/{id}/deliveries` → `{ deliveries: DeliveryState[] }` (oldest first, in full)
 * - `POST /_emulator/hooks/{id}/deliveries` (`DeliverySend`) → `{ delivery: DeliveryState }` — sends one
 * - `POST /_emulator/deliveries/settle` — waits for deliveries still being sent (REST redeliveries)
 * - `GET  /_emulator/rate-limits` → `{ credentials: CredentialUsage[] }`
 * - `GET  /_emulator/apps` → `{ apps: AppState[] }` — seeded Apps and those made by the manifest flow
 * - `GET  /_emulator/check-runs` → `{ checkRuns: CheckRunState[] }` — every check run created, oldest first
 * - `POST /_emulator/clock` (`{ offsetSeconds }`) — this namespace's clock, for expiry and JWT checks
 * - `POST /_emulator/installation-tokens/revoke` — every installation token issued so far stops working
 * - `POST /_emulator/reset` — back to a fresh namespace
 *
 * Web pages (not under `/_emulator`, not under `/api/v3`): `POST /settings/apps/new` and
 * `POST /organizations/{org}/settings/apps/new` take a form with `manifest` (and `state`), see manifest.ts.
 */
import * as z from "zod/mini";

/** GitHub App / fine-grained token permission names, e.g. `administration`, `organization_self_hosted_runners`, `actions`. */
export const PermissionsSchema = z.record(z.string(), z.enum(["read", "write"]));
export type Permissions = z.infer<typeof PermissionsSchema>;

export const TokenSeedSchema = z.object({
  token: z.string(),
  /** Missing: every permission. */
  permissions: z.optional(PermissionsSchema),
});

export const AppSeedSchema = z.object({
  id: z.int(),
  clientId: z.optional(z.string()),
  /** SPKI PEM (`BEGIN PUBLIC KEY`): what GitHub keeps to verify the App's JWTs. */
  publicKey: z.string(),
});

export const InstallationSeedSchema = z.object({
  id: z.int(),
  appId: z.int(),
  /** The user or organization the App is installed on; its tokens reach only that account's repositories. */
  account: z.string(),
  /** Missing: every permission. */
  permissions: z.optional(PermissionsSchema),
});

export const JobSeedSchema = z.object({
  id: z.int(),
  /** `owner/repo`. */
  repository: z.string(),
  status: z.optional(z.enum(["queued", "in_progress", "completed", "waiting", "requested", "pending"])),
  conclusion: z.optional(z.nullable(z.string())),
  name: z.optional(z.string()),
  labels: z.optional(z.array(z.string())),
  runId: z.optional(z.int()),
  runAttempt: z.optional(z.int()),
  runnerId: z.optional(z.nullable(z.int())),
  runnerName: z.optional(z.nullable(z.string())),
});
export type JobSeed = z.infer<typeof JobSeedSchema>;

export const ReleaseSeedSchema = z.object({
  /** `owner/repo`; such a repository exists (public) even when `repositories` is seeded. */
  repository: z.string(),
  tagName: z.string(),
});

export const RunnerSeedSchema = z.object({
  /** `owner/repo` for a repository runner… */
  repository: z.optional(z.string()),
  /** …or the organization of an organization runner. */
  organization: z.optional(z.string()),
  name: z.string(),
  labels: z.optional(z.array(z.string())),
  status: z.optional(z.enum(["online", "offline"])),
  busy: z.optional(z.boolean()),
  runnerGroupId: z.optional(z.int()),
});

export const RepositoryMetadataSchema = z.object({
  /** `owner/repo`. Describes the repository; whether it exists is still `repositories`' business. */
  repository: z.string(),
  id: z.optional(z.int()),
  /** Default true. */
  private: z.optional(z.boolean()),
  /** The owner's type; default `Organization`. */
  ownerType: z.optional(z.enum(["Organization", "User"])),
});

export const SecondaryRateLimitSchema = z.object({
  /** Accepted calls of `routes` per credential within the window; the next one is refused. */
  limit: z.int().check(z.minimum(0)),
  windowSeconds: z.number().check(z.positive()),
  /** Sent as `retry-after`; the credential is refused on `routes` until it has passed. */
  retryAfterSeconds: z.int().check(z.minimum(1)),
  /** `METHOD /template`; default the two `POST …/actions/runners/generate-jitconfig` routes. */
  routes: z.optional(z.array(z.string())),
});

export const SeedSchema = z.object({
  /** `owner/repo` entries; once seeded, other repositories answer 404. */
  repositories: z.optional(z.array(z.string())),
  organizations: z.optional(z.array(z.string())),
  /** Runner group ids that exist in every organization (1, the default group, unless seeded). */
  runnerGroups: z.optional(z.array(z.int())),
  tokens: z.optional(z.array(TokenSeedSchema)),
  apps: z.optional(z.array(AppSeedSchema)),
  installations: z.optional(z.array(InstallationSeedSchema)),
  /** Upserted by id. */
  jobs: z.optional(z.array(JobSeedSchema)),
  /** Registered runners, as if created by JIT configs earlier. */
  runners: z.optional(z.array(RunnerSeedSchema)),
  /** Replaces the latest release of each repository named. */
  releases: z.optional(z.array(ReleaseSeedSchema)),
  repositoryMetadata: z.optional(z.array(RepositoryMetadataSchema)),
  /** Every credential's starting budget; credentials that called already start over from it. */
  rateLimit: z.optional(
    z.object({ limit: z.int(), remaining: z.int(), resetInSeconds: z.optional(z.int()) }),
  ),
  secondaryRateLimit: z.optional(SecondaryRateLimitSchema),
});
export type Seed = z.infer<typeof SeedSchema>;

export const SettingsUpdateSchema = z.object({
  /** GitHub's routing of queued jobs to idle runners whose labels fit (job-routing.ts); default false. */
  assignJobs: z.optional(z.boolean()),
  /** A `workflow_job` payload (e.g. from @octokit/webhooks-examples) the job deliveries are built from. */
  jobPayloadTemplate: z.optional(z.record(z.string(), z.unknown())),
  /** How long a hook URL may take to answer (default 10,000 ms, GitHub's limit for github.com). */
  deliveryTimeoutMs: z.optional(z.int().check(z.positive())),
});
export type SettingsUpdate = z.infer<typeof SettingsUpdateSchema>;

export const HookSeedSchema = z.object({
  /** Replaces the hook with this id (its log stays); a new id otherwise. */
  id: z.optional(z.int()),
  kind: z.enum(["repository", "organization", "app"]),
  /** `owner/repo`, for a repository hook. */
  repository: z.optional(z.string()),
  organization: z.optional(z.string()),
  /** The App whose hook this is; it must be seeded. */
  appId: z.optional(z.int()),
  /** Where deliveries are POSTed; without one, deliveries record the outcome they are given. */
  url: z.optional(z.string()),
  secret: z.optional(z.string()),
  /** GitHub's `content_type`: `json` (default) or `form` (the JSON in a `payload` field). */
  contentType: z.optional(z.enum(["json", "form"])),
});
export type HookSeed = z.infer<typeof HookSeedSchema>;

export const DeliverySendSchema = z.object({
  event: z.string().check(z.minLength(1)),
  /** Default: the payload's `action`, if any. */
  action: z.optional(z.nullable(z.string())),
  payload: z.record(z.string(), z.unknown()),
  /** Default: a new GUID. Give the GUID of an earlier delivery to send the same event again. */
  guid: z.optional(z.string()),
  /** The outcome to record for a hook without a URL (default 502); ignored when the hook has one. */
  statusCode: z.optional(z.int()),
});
export type DeliverySend = z.infer<typeof DeliverySendSchema>;

export const DeliveryStateSchema = z.object({
  id: z.int(),
  guid: z.string(),
  deliveredAt: z.number(),
  redelivery: z.boolean(),
  duration: z.number(),
  status: z.string(),
  statusCode: z.int(),
  event: z.string(),
  action: z.nullable(z.string()),
  installationId: z.nullable(z.int()),
  repositoryId: z.nullable(z.int()),
  url: z.optional(z.string()),
  /** The headers sent, with GitHub's capitalisation. */
  requestHeaders: z.record(z.string(), z.string()),
  payload: z.record(z.string(), z.unknown()),
  responseHeaders: z.record(z.string(), z.string()),
  responseBody: z.nullable(z.string()),
});
export type DeliveryState = z.infer<typeof DeliveryStateSchema>;

export const CredentialUsageSchema = z.object({
  /** `pat:<first 16 hex of SHA-256(token)>`, `installation:<id>`, `app:<id>` or `anonymous`. */
  credential: z.string(),
  accepted: z.int(),
  secondaryRefusals: z.int(),
  /** Calls made while an earlier refusal told this credential to wait. */
  duringAnnouncedLimit: z.int(),
  primaryRefusals: z.int(),
  remaining: z.int(),
  limit: z.int(),
  resetAt: z.number(),
});
export type CredentialUsage = z.infer<typeof CredentialUsageSchema>;

export const AppStateSchema = z.object({
  id: z.int(),
  slug: z.string(),
  name: z.string(),
  owner: z.string(),
  clientId: z.nullable(z.string()),
  installations: z.array(z.object({ id: z.int(), account: z.string() })),
  hookId: z.nullable(z.int()),
});
export type AppState = z.infer<typeof AppStateSchema>;

export const FailureSchema = z.object({
  /** `POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig`, or a path template with `method` set. */
  route: z.string(),
  method: z.optional(z.string()),
  /** Only requests whose path contains this text (e.g. one repository), so tests sharing a namespace stay apart. */
  pathIncludes: z.optional(z.string()),
  /** How many matching requests fail (default 1). */
  count: z.optional(z.int()),
  /** The status to answer; without it (and without `drop`) the request is only delayed. */
  status: z.optional(z.int()),
  /** Seconds, sent as `retry-after`. */
  retryAfter: z.optional(z.int()),
  headers: z.optional(z.record(z.string(), z.string())),
  body: z.optional(z.unknown()),
  /** Wait this long before answering. */
  delayMs: z.optional(z.int()),
  /** Close the connection without an answer (a network error for the client). */
  drop: z.optional(z.boolean()),
});
export type Failure = z.infer<typeof FailureSchema>;

export const RunnerUpdateSchema = z.object({
  /** `online` as if the runner connected with its JIT config; `offline` as if it went away. */
  status: z.optional(z.enum(["online", "offline"])),
  busy: z.optional(z.boolean()),
  /** With `busy: true`: the job it took (which becomes `in_progress` on this runner). */
  jobId: z.optional(z.int()),
  /** The runner finished its job: the job completes with this conclusion, the (ephemeral) runner is removed. */
  complete: z.optional(z.object({ conclusion: z.string() })),
});
export type RunnerUpdate = z.infer<typeof RunnerUpdateSchema>;

export const ClockSchema = z.object({
  /** Seconds from the real clock… */
  offsetSeconds: z.optional(z.number()),
  /** …or a fixed time (ms since the epoch) the clock stays at until told otherwise: a test driving time itself. */
  at: z.optional(z.number()),
});

export const RecordedRequestSchema = z.object({
  method: z.string(),
  /** Path and query, after the `/ns/<name>` prefix (an `/api/v3` prefix is kept). */
  path: z.string(),
  /** The matched route, e.g. `POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig`; null if none. */
  route: z.nullable(z.string()),
  /** Lower-case names. `authorization` is `<scheme> [redacted]` unless requested with `?secrets=true`. */
  headers: z.record(z.string(), z.string()),
  /** Parsed JSON, the raw text if it was not JSON, or null. */
  body: z.unknown(),
  /** Who the emulator took the caller for. */
  auth: z.object({
    kind: z.enum(["none", "pat", "installation", "app", "invalid"]),
    installationId: z.optional(z.int()),
    appId: z.optional(z.int()),
  }),
  /** The rate-limit budget the call spent (see `CredentialUsage`); absent when its credentials were refused. */
  credential: z.optional(z.string()),
  /** It arrived while a rate-limit refusal had told its credential to wait. */
  duringAnnouncedLimit: z.optional(z.boolean()),
  /** The status answered (0 for a dropped connection). */
  status: z.int(),
});
export type RecordedRequest = z.infer<typeof RecordedRequestSchema>;

export const RunnerStateSchema = z.object({
  id: z.int(),
  name: z.string(),
  /** `repo:owner/repo` or `org:org`, lower case. */
  scope: z.string(),
  status: z.enum(["online", "offline"]),
  busy: z.boolean(),
  labels: z.array(z.string()),
  runnerGroupId: z.int(),
  /** The work_folder the JIT request asked for (GitHub's default `_work`). */
  workFolder: z.string(),
  jobId: z.nullable(z.int()),
});
export type RunnerState = z.infer<typeof RunnerStateSchema>;

/** A check run as it was created (`POST /repos/{owner}/{repo}/check-runs`). */
export const CheckRunStateSchema = z.object({
  id: z.int(),
  owner: z.string(),
  repo: z.string(),
  appId: z.int(),
  name: z.string(),
  headSha: z.string(),
  externalId: z.nullable(z.string()),
  detailsUrl: z.nullable(z.string()),
  status: z.enum(["queued", "in_progress", "completed"]),
  conclusion: z.nullable(z.string()),
  startedAt: z.string(),
  completedAt: z.nullable(z.string()),
  output: z.object({
    title: z.nullable(z.string()),
    summary: z.nullable(z.string()),
    text: z.nullable(z.string()),
  }),
});
export type CheckRunState = z.infer<typeof CheckRunStateSchema>;
