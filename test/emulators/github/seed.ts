/**
 * `POST /_emulator/seed`: a `Seed` merged into a namespace. Names are kept in lower case where GitHub compares
 * them without case; jobs are upserted by id, keeping what the seed leaves out.
 */
import type { JobSeed, Seed } from "./control.ts";
import {
  accountOf,
  DEFAULT_RUNNER_RELEASE,
  JIT_ROUTES,
  type JobRecord,
  type Namespace,
  nowOf,
  repositoryOf,
} from "./state.ts";

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
  for (const meta of seed.repositoryMetadata ?? []) {
    const [owner = "", name = ""] = meta.repository.split("/");
    const repository = repositoryOf(ns, owner, name);
    if (meta.id !== undefined) repository.id = meta.id;
    if (meta.private !== undefined) repository.private = meta.private;
    if (meta.ownerType !== undefined) accountOf(ns, owner).type = meta.ownerType;
  }
  for (const app of seed.apps ?? []) {
    ns.apps.set(app.id, {
      id: app.id,
      clientId: app.clientId,
      publicKey: await importPublicKey(app.publicKey),
      slug: `app-${app.id}`,
      name: `App ${app.id}`,
      // Who registered a seeded App is not part of any check; the owner of its first installation, or none.
      owner:
        seed.installations?.find((installation) => installation.appId === app.id)?.account.toLowerCase() ??
        "",
      permissions: undefined,
      events: ["workflow_job"],
      description: null,
      externalUrl: "https://example.com",
      createdAt: nowOf(ns),
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
    // Every credential starts over from the seeded budget, including those that called already.
    ns.rateLimits.start = {
      limit: seed.rateLimit.limit,
      remaining: seed.rateLimit.remaining,
      resetAt: nowOf(ns) + (seed.rateLimit.resetInSeconds ?? 3600) * 1000,
    };
    for (const usage of ns.rateLimits.usage.values()) usage.budget = { ...ns.rateLimits.start };
  }
  if (seed.secondaryRateLimit !== undefined) {
    const { limit, windowSeconds, retryAfterSeconds, routes } = seed.secondaryRateLimit;
    ns.rateLimits.secondary = {
      limit,
      windowMs: windowSeconds * 1000,
      retryAfterSeconds,
      routes: routes ?? [...JIT_ROUTES],
    };
  }
}
