/**
 * GitHub checks as a GitHub App, each resting on the one before: the private key signs a JWT (private-key.ts);
 * GitHub accepts that JWT (`GET /app`); each installation we know of — GITHUB_APP_INSTALLATION_ID, and the one
 * on each owner ALLOWED_REPOS names — issues a token granted what registering needs; and that token lists the
 * runners of each scope ALLOWED_REPOS names. Without an installation id or an allowlist there is no installation
 * to check: each job uses the one its webhook names.
 */
import type { RepoPattern } from "../config/variables.ts";
import type { AppInfo, GitHubClient, Installation } from "../github/client.ts";
import { type CheckResult, failed, passed } from "./check.ts";
import { checkRunnerAccess, githubFailure, registrationPermission } from "./github-access.ts";
import { type AppAuth, appKeyProblem } from "./private-key.ts";
import { MAX_TARGETS, ownerOf, type Targets, targetsNote } from "./targets.ts";

const KEY_FIX =
  "set GITHUB_APP_PRIVATE_KEY to the private key GitHub generated for the App: the whole .pem file, from -----BEGIN RSA PRIVATE KEY----- to its END line, line breaks included (or written as \\n)";
const JWT_FIX =
  "GITHUB_APP_ID must be the ID (or client ID) of the App this private key belongs to, the key must not have been deleted in the App's settings, and the Worker's clock must be right";

/** Where to look for an owner's installation: a repository of it when ALLOWED_REPOS names one (that works for
 * users and organizations alike), else the owner as an organization. */
function ownerLookups(
  allowed: readonly RepoPattern[],
): Map<string, { owner: string; repo: string | undefined }> {
  const owners = new Map<string, { owner: string; repo: string | undefined }>();
  for (const { owner, repo } of allowed) {
    const key = owner.toLowerCase();
    const known = owners.get(key);
    if (known === undefined) {
      if (owners.size < MAX_TARGETS) owners.set(key, { owner, repo: repo === "*" ? undefined : repo });
    } else if (known.repo === undefined && repo !== "*") known.repo = repo;
  }
  return owners;
}

async function checkGrant(
  client: GitHubClient,
  name: string,
  installationId: number,
  where: string,
  kind: "repo" | "org",
): Promise<CheckResult> {
  let permissions: Readonly<Record<string, string>>;
  try {
    permissions = await client.forInstallation(installationId).installationPermissions();
  } catch (error) {
    return githubFailure(name, error, {
      not_found: `installation ${installationId} is not an installation of this App: GITHUB_APP_INSTALLATION_ID must be the number at the end of the installation's settings URL, or unset (each job then uses the installation its webhook names)`,
      forbidden: `installation ${installationId} may be suspended: unsuspend it in the settings of the account it is on`,
    });
  }
  const needed = registrationPermission(kind);
  const level = permissions[needed.key];
  if (level !== "write" && level !== "admin") {
    return failed(
      name,
      `installation ${installationId}${where} issues tokens, granted ${needed.key}: ${level ?? "none"}; registering runners needs write`,
      `give the App ${needed.label}: read & write in its settings, then approve the new permissions on installation ${installationId}`,
    );
  }
  return passed(name, `installation ${installationId}${where} issues tokens granted ${needed.key}: ${level}`);
}

/** The owner's installation, or the failed check that says it has none (and where to install the App). */
async function lookUpInstallation(
  client: GitHubClient,
  app: AppInfo,
  lookup: { owner: string; repo: string | undefined },
): Promise<{ installation: Installation } | { failure: CheckResult }> {
  const name = `github.installation:${lookup.owner}`;
  let installation: Installation | undefined;
  try {
    installation =
      lookup.repo === undefined
        ? await client.getOrgInstallation(lookup.owner)
        : await client.getRepoInstallation(lookup.owner, lookup.repo);
  } catch (error) {
    return { failure: githubFailure(name, error, { unauthenticated: JWT_FIX }) };
  }
  if (installation !== undefined) return { installation };
  const subject = lookup.repo === undefined ? lookup.owner : `${lookup.owner}/${lookup.repo}`;
  const where =
    lookup.repo === undefined
      ? ` (if ${lookup.owner} is a user, not an organization, name one of its repositories in ALLOWED_REPOS so that its installation can be found)`
      : "";
  return {
    failure: failed(
      name,
      `the App "${app.name}" is not installed on ${subject}`,
      `install it on ${lookup.owner}${lookup.repo === undefined ? "" : `, with access to ${lookup.repo}`}: ${app.htmlUrl}/installations/new${where}`,
    ),
  };
}

export async function checkApp(
  client: GitHubClient,
  auth: AppAuth,
  kind: "repo" | "org",
  allowed: readonly RepoPattern[],
  targets: Targets,
): Promise<CheckResult[]> {
  const keyProblem = await appKeyProblem(auth);
  if (keyProblem !== undefined) {
    return [failed("github.app-key", `${keyProblem}; no GitHub App call was made`, KEY_FIX)];
  }
  const results = [
    passed("github.app-key", "GITHUB_APP_PRIVATE_KEY is an RSA private key and signs the App's JWT"),
  ];
  let app: AppInfo;
  try {
    app = await client.getApp();
  } catch (error) {
    return [...results, githubFailure("github.app", error, { unauthenticated: JWT_FIX })];
  }
  const count = app.installationsCount === undefined ? "" : `, ${app.installationsCount} installations`;
  results.push(
    passed(
      "github.app",
      `GitHub accepts the JWT of the App "${app.name}" (id ${app.id}${count})${targetsNote(kind, targets)}`,
    ),
  );

  if (auth.installationId !== undefined) {
    results.push(
      await checkGrant(
        client,
        "github.installation",
        auth.installationId,
        " (GITHUB_APP_INSTALLATION_ID)",
        kind,
      ),
    );
  } else if (allowed.length === 0) {
    results.push(
      passed(
        "github.installation",
        "no installation to check: GITHUB_APP_INSTALLATION_ID is unset and ALLOWED_REPOS is empty, so each job uses the installation its webhook names",
      ),
    );
  }
  // Each owner's installation: found, then proven to issue a token granted what registering needs.
  const owners = await Promise.all(
    [...ownerLookups(allowed).values()].map(async (lookup) => {
      const found = await lookUpInstallation(client, app, lookup);
      if ("failure" in found) return { owner: lookup.owner, result: found.failure };
      const { id } = found.installation;
      const result = await checkGrant(
        client,
        `github.installation:${lookup.owner}`,
        id,
        ` on ${lookup.owner}`,
        kind,
      );
      return { owner: lookup.owner, result, installationId: result.ok ? id : undefined };
    }),
  );
  const installations = new Map<string, number>();
  for (const owner of owners) {
    results.push(owner.result);
    if (owner.installationId !== undefined)
      installations.set(owner.owner.toLowerCase(), owner.installationId);
  }
  const access = await Promise.all(
    targets.scopes.flatMap((scope) => {
      const installationId = installations.get(ownerOf(scope).toLowerCase());
      return installationId === undefined
        ? []
        : [checkRunnerAccess(client.forInstallation(installationId), scope, { kind: "app", installationId })];
    }),
  );
  return [...results, ...access];
}
