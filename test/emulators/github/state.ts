/**
 * One namespace of the GitHub emulator: everything a test can seed or observe. Names are compared in lower case,
 * as GitHub does for owners, repositories and runner names.
 */
import type { CheckRunState, Failure, Permissions, RecordedRequest, RunnerState } from "./control.ts";
import type { HookRecord } from "./hooks.ts";
import type { ManifestCode } from "./manifest.ts";
import { createRateLimits, type RateLimits } from "./rate-limits.ts";

export interface AppRecord {
  id: number;
  clientId: string | undefined;
  publicKey: CryptoKey;
  /** Seeded Apps are `app-<id>`; manifest Apps take the slug of their name. */
  slug: string;
  name: string;
  /** The account that owns the App registration (lower case); "" for a seeded App. */
  owner: string;
  /** The levels it was registered with (`admin` included); undefined for a seeded App. */
  permissions: Record<string, string> | undefined;
  events: string[];
  description: string | null;
  /** The manifest's `url`: the App's homepage. */
  externalUrl: string;
  createdAt: number;
}

export interface InstallationRecord {
  id: number;
  appId: number;
  account: string;
  permissions: Permissions | undefined;
}

export type AccountType = "Organization" | "User";

/** A user or organization: its numeric id and type, as repository owners and installation targets show it. */
export interface AccountRecord {
  login: string;
  id: number;
  type: AccountType;
}

export interface RepositoryRecord {
  id: number;
  owner: string;
  name: string;
  private: boolean;
}

export interface Settings {
  /** Route queued jobs to idle runners whose labels fit, as GitHub does (off: tests move jobs themselves). */
  assignJobs: boolean;
  /** A `workflow_job` payload whose `action`, `workflow_job`, `repository` and owner fields are filled in. */
  jobPayloadTemplate: Record<string, unknown> | undefined;
  /** How long a hook's URL may take to answer: GitHub gives github.com receivers 10 s. */
  deliveryTimeoutMs: number;
}

export interface IssuedToken {
  installationId: number;
  /** Milliseconds since the epoch (emulator clock). */
  expiresAt: number;
}

export interface RunnerRecord extends RunnerState {
  os: string;
  version: string | null;
  encodedJitConfig: string;
}

export interface JobRecord {
  id: number;
  owner: string;
  repo: string;
  status: string;
  conclusion: string | null;
  name: string;
  labels: string[];
  runId: number;
  runAttempt: number;
  runnerId: number | null;
  runnerName: string | null;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
}

/** A check run as posted; the JSON of the answer is built from it (check-run-routes.ts). */
export type CheckRunRecord = CheckRunState;

export interface Namespace {
  name: string;
  /** Undefined: every repository exists (lenient default). Entries are `owner/repo`, lower case. */
  repositories: Set<string> | undefined;
  organizations: Set<string> | undefined;
  runnerGroups: Set<number>;
  /** Undefined: every well-formed PAT is accepted with every permission. */
  tokens: Map<string, Permissions | undefined> | undefined;
  apps: Map<number, AppRecord>;
  installations: Map<number, InstallationRecord>;
  installationTokens: Map<string, IssuedToken>;
  runners: Map<number, RunnerRecord>;
  labelIds: Map<string, number>;
  jobs: Map<number, JobRecord>;
  /** `owner/repo` (lower case) → tag name of the latest release. */
  releases: Map<string, string>;
  failures: (Failure & { remaining: number })[];
  requests: RecordedRequest[];
  rateLimits: RateLimits;
  /** Lower-case login → account; created with defaults (an organization) on first mention. */
  accounts: Map<string, AccountRecord>;
  /** Lower-case `owner/repo` → repository; created with defaults (private) on first mention. */
  repositoryRecords: Map<string, RepositoryRecord>;
  hooks: Map<number, HookRecord>;
  /** In the order they were created. */
  checkRuns: CheckRunRecord[];
  manifestCodes: Map<string, ManifestCode>;
  settings: Settings;
  /** Deliveries still being sent (redeliveries answer 202 before they are done, as on GitHub). */
  inFlight: Set<Promise<unknown>>;
  clockOffsetMs: number;
  /** Set: the namespace's clock stands still at this time. */
  clockFixedAt: number | undefined;
  /** Runner and label ids. */
  nextId: number;
  /** Ids of accounts, repositories, hooks, Apps and installations made by the emulator: apart from runner ids. */
  nextEntityId: number;
  nextDeliveryId: number;
}

/** Who is signed in to the web UI of every namespace. */
export const WEB_USER = "octocat";

export const DEFAULT_RUNNER_RELEASE = "v2.334.0";

/** The routes a secondary limit applies to unless seeded otherwise: registering runners is what bursts. */
export const JIT_ROUTES = [
  "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
  "POST /orgs/{org}/actions/runners/generate-jitconfig",
] as const;

export function createNamespace(name: string): Namespace {
  return {
    name,
    repositories: undefined,
    organizations: undefined,
    runnerGroups: new Set([1]),
    tokens: undefined,
    apps: new Map(),
    installations: new Map(),
    installationTokens: new Map(),
    runners: new Map(),
    labelIds: new Map(),
    jobs: new Map(),
    releases: new Map([["actions/runner", DEFAULT_RUNNER_RELEASE]]),
    failures: [],
    requests: [],
    rateLimits: createRateLimits(),
    accounts: new Map(),
    repositoryRecords: new Map(),
    hooks: new Map(),
    checkRuns: [],
    manifestCodes: new Map(),
    settings: { assignJobs: false, jobPayloadTemplate: undefined, deliveryTimeoutMs: 10_000 },
    inFlight: new Set(),
    clockOffsetMs: 0,
    clockFixedAt: undefined,
    nextId: 1000,
    nextEntityId: 100_000,
    // GitHub's delivery ids are past 2^32 by now; clients must read them as 64-bit numbers.
    nextDeliveryId: 90_000_000_001,
  };
}

export function nowOf(ns: Namespace): number {
  return ns.clockFixedAt ?? Date.now() + ns.clockOffsetMs;
}

export function repositoryExists(ns: Namespace, owner: string, repo: string): boolean {
  const key = `${owner}/${repo}`.toLowerCase();
  return ns.repositories === undefined || ns.repositories.has(key) || ns.releases.has(key);
}

export function organizationExists(ns: Namespace, org: string): boolean {
  return ns.organizations === undefined || ns.organizations.has(org.toLowerCase());
}

/** The account of a login, an organization unless seeded otherwise. */
export function accountOf(ns: Namespace, login: string): AccountRecord {
  const key = login.toLowerCase();
  let account = ns.accounts.get(key);
  if (account === undefined) {
    account = { login, id: ns.nextEntityId++, type: "Organization" };
    ns.accounts.set(key, account);
  }
  return account;
}

/** The repository's record, private unless seeded otherwise. */
export function repositoryOf(ns: Namespace, owner: string, name: string): RepositoryRecord {
  const key = `${owner}/${name}`.toLowerCase();
  let repository = ns.repositoryRecords.get(key);
  if (repository === undefined) {
    accountOf(ns, owner);
    repository = { id: ns.nextEntityId++, owner, name, private: true };
    ns.repositoryRecords.set(key, repository);
  }
  return repository;
}
