/**
 * The GitHub emulator's control API (`{base}/_emulator/...`, JSON): what tests send to seed state, inject
 * failures and move runners, and what they read back. Shared by the emulator (which validates with these
 * schemas) and the test helper in control-client.ts. No Node imports: tests in workerd use it too.
 *
 * Defaults of a fresh namespace, lenient until seeded:
 * - every repository and organization exists until `repositories` / `organizations` are seeded;
 * - every well-formed PAT (`ghp_…`, `github_pat_…`) is accepted, with every permission, until `tokens` are seeded;
 * - runner group 1 exists; `actions/runner` has a release `v2.334.0`; 5,000 requests an hour.
 * App JWTs and installation tokens are always checked: seed `apps` (with their public keys) and `installations`.
 *
 * Endpoints, all JSON, under the namespace's base URL:
 * - `GET  /_emulator/requests[?secrets=true]` → `{ requests: RecordedRequest[] }`
 * - `POST /_emulator/seed` (`Seed`) — merged into the namespace
 * - `POST /_emulator/failures` (`Failure` or `Failure[]`; alias `/_emulator/fail`)
 * - `GET  /_emulator/runners` → `{ runners: RunnerState[] }`; `POST /_emulator/runners/{id}` (`RunnerUpdate`)
 * - `POST /_emulator/clock` (`{ offsetSeconds }`) — this namespace's clock, for expiry and JWT checks
 * - `POST /_emulator/installation-tokens/revoke` — every installation token issued so far stops working
 * - `POST /_emulator/reset` — back to a fresh namespace
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
  rateLimit: z.optional(
    z.object({ limit: z.int(), remaining: z.int(), resetInSeconds: z.optional(z.int()) }),
  ),
});
export type Seed = z.infer<typeof SeedSchema>;

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

export const ClockSchema = z.object({ offsetSeconds: z.number() });

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
