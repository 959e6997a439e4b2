/**
 * The App's own endpoints, which take its JWT and nothing else (GitHub answers a token with 401 "A JSON web
 * token could not be decoded"): the App itself, the installation-token exchange and the installation on a
 * repository's owner or on an organization. Also the manifest conversion, which takes no credentials at all.
 */
import { type ApiRequest, type ApiResponse, jwtRequired, notFound, type Route } from "./api.ts";
import { appJson, DEFAULT_APP_PERMISSIONS } from "./app-bodies.ts";
import { iso } from "./bodies.ts";
import { convertManifest } from "./manifest.ts";
import { accountJson } from "./repository-bodies.ts";
import {
  accountOf,
  type InstallationRecord,
  type Namespace,
  organizationExists,
  repositoryExists,
} from "./state.ts";

const TOKEN_LIFETIME_MS = 60 * 60 * 1000;
const INSTALLATION_DOCS = "https://docs.github.com/rest/apps/apps";
/** What a seeded installation without permissions is granted. */
const DEFAULT_PERMISSIONS = DEFAULT_APP_PERMISSIONS;

function createInstallationToken(request: ApiRequest): ApiResponse {
  const { identity, ns } = request;
  if (identity.kind !== "app") return jwtRequired();
  const installation = ns.installations.get(Number(request.params.installation_id));
  if (installation === undefined || installation.appId !== identity.appId) return notFound();
  const token = `ghs_${Array.from(crypto.getRandomValues(new Uint8Array(18)), (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
  const expiresAt = request.now + TOKEN_LIFETIME_MS;
  ns.installationTokens.set(token, { installationId: installation.id, expiresAt });
  return {
    status: 201,
    body: {
      token,
      expires_at: iso(expiresAt),
      permissions: installation.permissions ?? DEFAULT_PERMISSIONS,
      repository_selection: "all",
    },
  };
}

/** `GET /app`: the App its JWT names, with `installations_count` (given only to the App about itself). */
function getApp(request: ApiRequest): ApiResponse {
  const { identity, ns } = request;
  if (identity.kind !== "app") return jwtRequired();
  const app = ns.apps.get(identity.appId);
  if (app === undefined) return jwtRequired();
  const installations = [...ns.installations.values()].filter(
    (installation) => installation.appId === app.id,
  );
  return {
    status: 200,
    body: {
      ...appJson(ns, app, request.base),
      permissions: app.permissions ?? DEFAULT_PERMISSIONS,
      installations_count: installations.length,
    },
  };
}

function installationJson(ns: Namespace, installation: InstallationRecord, base: string) {
  const app = ns.apps.get(installation.appId);
  const account = accountOf(ns, installation.account);
  const now = app?.createdAt ?? 0;
  return {
    id: installation.id,
    account: accountJson(ns, installation.account, base),
    repository_selection: "all",
    access_tokens_url: `${base}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${base}/installation/repositories`,
    html_url:
      account.type === "Organization"
        ? `https://github.com/organizations/${account.login}/settings/installations/${installation.id}`
        : `https://github.com/settings/installations/${installation.id}`,
    app_id: installation.appId,
    ...(app?.clientId === undefined ? {} : { client_id: app.clientId }),
    app_slug: app?.slug ?? `app-${installation.appId}`,
    target_id: account.id,
    target_type: account.type,
    permissions: installation.permissions ?? DEFAULT_PERMISSIONS,
    events: app?.events ?? [],
    created_at: iso(now),
    updated_at: iso(now),
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

function installationOn(request: ApiRequest, account: string): ApiResponse {
  const { identity, ns } = request;
  if (identity.kind !== "app") return jwtRequired();
  const installation = [...ns.installations.values()].find(
    (candidate) => candidate.appId === identity.appId && candidate.account === account.toLowerCase(),
  );
  return installation === undefined
    ? notFound(INSTALLATION_DOCS)
    : { status: 200, body: installationJson(ns, installation, request.base) };
}

function getRepoInstallation(request: ApiRequest): ApiResponse {
  const { owner = "", repo = "" } = request.params;
  if (request.identity.kind === "app" && !repositoryExists(request.ns, owner, repo)) {
    return notFound(INSTALLATION_DOCS);
  }
  return installationOn(request, owner);
}

function getOrgInstallation(request: ApiRequest): ApiResponse {
  const { org = "" } = request.params;
  const isOrganization =
    organizationExists(request.ns, org) && accountOf(request.ns, org).type === "Organization";
  if (request.identity.kind === "app" && !isOrganization) return notFound(INSTALLATION_DOCS);
  return installationOn(request, org);
}

export const APP_ROUTES: Route[] = [
  { method: "GET", template: "/app", handle: getApp },
  {
    method: "POST",
    template: "/app/installations/{installation_id}/access_tokens",
    handle: createInstallationToken,
  },
  { method: "GET", template: "/repos/{owner}/{repo}/installation", handle: getRepoInstallation },
  { method: "GET", template: "/orgs/{org}/installation", handle: getOrgInstallation },
  {
    method: "POST",
    template: "/app-manifests/{code}/conversions",
    handle: (request) => convertManifest(request.ns, request.params.code ?? "", request.base),
  },
];
