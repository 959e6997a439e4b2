/**
 * One namespace of the GitHub emulator: everything a test can seed or observe. Names are compared in lower case,
 * as GitHub does for owners, repositories and runner names.
 */
import type { Failure, JobSeed, Permissions, RecordedRequest, RunnerState, Seed } from "./control.ts";

export interface AppRecord {
  id: number;
  clientId: string | undefined;
  publicKey: CryptoKey;
}

export interface InstallationRecord {
  id: number;
  appId: number;
  account: string;
  permissions: Permissions | undefined;
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
  rateLimit: { limit: number; remaining: number; resetAt: number };
  clockOffsetMs: number;
  nextId: number;
}

export const DEFAULT_RUNNER_RELEASE = "v2.334.0";

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
    rateLimit: { limit: 5000, remaining: 5000, resetAt: 0 },
    clockOffsetMs: 0,
    nextId: 1000,
  };
}

export function nowOf(ns: Namespace): number {
  return Date.now() + ns.clockOffsetMs;
}

export function repositoryExists(ns: Namespace, owner: string, repo: string): boolean {
  const key = `${owner}/${repo}`.toLowerCase();
  return ns.repositories === undefined || ns.repositories.has(key) || ns.releases.has(key);
}

export function organizationExists(ns: Namespace, org: string): boolean {
  return ns.organizations === undefined || ns.organizations.has(org.toLowerCase());
}

async function importPublicKey(pem: string): Promise<CryptoKey> {
  const body = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(pem)?.[1];
  if (body === undefined) throw new Error("apps[].publicKey must be an SPKI PEM (BEGIN PUBLIC KEY)");
  const der = Uint8Array.from(atob(body.replace(/\s+/g, "")), (char) => char.charCodeAt(0));
  return crypto.subtle.importKey("spki", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
    "verify",
  ]);
}

function jobFromSeed(seed: JobSeed, now: number, previous: JobRecord | undefined): JobRecord {
  const [owner = "", repo = ""] = seed.repository.split("/");
  const status = seed.status ?? previous?.status ?? "queued";
  return {
    id: seed.id,
    owner,
    repo,
    status,
    conclusion: seed.conclusion !== undefined ? seed.conclusion : (previous?.conclusion ?? null),
    name: seed.name ?? previous?.name ?? "build",
    labels: seed.labels ?? previous?.labels ?? ["self-hosted", "modal"],
    runId: seed.runId ?? previous?.runId ?? seed.id + 1_000_000,
    runAttempt: seed.runAttempt ?? previous?.runAttempt ?? 1,
    runnerId: seed.runnerId !== undefined ? seed.runnerId : (previous?.runnerId ?? null),
    runnerName: seed.runnerName !== undefined ? seed.runnerName : (previous?.runnerName ?? null),
    createdAt: previous?.createdAt ?? now,
    startedAt: previous?.startedAt ?? (status === "queued" || status === "waiting" ? null : now),
    completedAt: previous?.completedAt ?? (status === "completed" ? now : null),
  };
}

export async function applySeed(ns: Namespace, seed: Seed): Promise<void> {
  const lower = (values: string[]) => new Set(values.map((value) => value.toLowerCase()));
  if (seed.repositories !== undefined) ns.repositories = lower(seed.repositories);
  if (seed.organizations !== undefined) ns.organizations = lower(seed.organizations);
  if (seed.runnerGroups !== undefined) ns.runnerGroups = new Set(seed.runnerGroups);
  if (seed.tokens !== undefined) {
    ns.tokens ??= new Map();
    for (const token of seed.tokens) ns.tokens.set(token.token, token.permissions);
  }
  for (const app of seed.apps ?? []) {
    ns.apps.set(app.id, {
      id: app.id,
      clientId: app.clientId,
      publicKey: await importPublicKey(app.publicKey),
    });
  }
  for (const installation of seed.installations ?? []) {
    ns.installations.set(installation.id, {
      id: installation.id,
      appId: installation.appId,
      account: installation.account.toLowerCase(),
      permissions: installation.permissions,
    });
  }
  for (const job of seed.jobs ?? []) ns.jobs.set(job.id, jobFromSeed(job, nowOf(ns), ns.jobs.get(job.id)));
  for (const runner of seed.runners ?? []) {
    const scope =
      runner.organization === undefined
        ? `repo:${runner.repository ?? ""}`.toLowerCase()
        : `org:${runner.organization}`.toLowerCase();
    const labels = runner.labels ?? ["self-hosted"];
    for (const label of labels) {
      if (!ns.labelIds.has(label.toLowerCase())) ns.labelIds.set(label.toLowerCase(), ns.nextId++);
    }
    const online = runner.status === "online" || runner.busy === true;
    const id = ns.nextId++;
    ns.runners.set(id, {
      id,
      name: runner.name,
      scope,
      os: online ? "Linux" : "unknown",
      status: online ? "online" : "offline",
      busy: runner.busy ?? false,
      labels,
      runnerGroupId: runner.runnerGroupId ?? 1,
      workFolder: "_work",
      jobId: null,
      version: online ? DEFAULT_RUNNER_RELEASE.replace(/^v/, "") : null,
      encodedJitConfig: "",
    });
  }
  for (const release of seed.releases ?? [])
    ns.releases.set(release.repository.toLowerCase(), release.tagName);
  if (seed.rateLimit !== undefined) {
    ns.rateLimit = {
      limit: seed.rateLimit.limit,
      remaining: seed.rateLimit.remaining,
      resetAt: nowOf(ns) + (seed.rateLimit.resetInSeconds ?? 3600) * 1000,
    };
  }
}
