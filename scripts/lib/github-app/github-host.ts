/**
 * Where a GitHub lives: the web host a person signs in to (the manifest is posted there, the App is installed
 * there) and the REST API the conversion is made on. github.com and GHE.com keep the API on a host of its own;
 * GitHub Enterprise Server serves it from the web host under `/api/v3`.
 */

export type GitHubKind = "github.com" | "ghe.com" | "ghes";

export interface GitHubHost {
  kind: GitHubKind;
  /** No trailing slash: `https://github.com`, `https://github.example.com`. */
  webUrl: string;
  /** No trailing slash: `https://api.github.com`, `https://github.example.com/api/v3`. */
  apiUrl: string;
}

export const GITHUB_COM = "https://github.com";

/**
 * The host for a web address already checked to be an absolute http(s) URL without query or fragment. An API
 * address given by mistake (`…/api/v3`, `api.github.com`) is taken back to its web host, with a note.
 */
export function resolveGitHubHost(url: string): { host: GitHubHost; note: string | undefined } {
  const parsed = new URL(url);
  let note: string | undefined;
  let path = parsed.pathname.replace(/\/+$/, "");
  if (/\/api\/v3$/.test(path)) {
    path = path.slice(0, -"/api/v3".length);
    note = `--github-url is the web address: using ${parsed.origin}${path} (its API is ${parsed.origin}${path}/api/v3)`;
  }
  const hostname = parsed.hostname.toLowerCase();
  if (hostname === "api.github.com" || hostname === "github.com" || hostname === "www.github.com") {
    if (hostname === "api.github.com") note = `--github-url is the web address: using ${GITHUB_COM}`;
    return { host: { kind: "github.com", webUrl: GITHUB_COM, apiUrl: "https://api.github.com" }, note };
  }
  // GHE.com (data residency): the web on SUBDOMAIN.ghe.com, the API on api.SUBDOMAIN.ghe.com.
  if (hostname.endsWith(".ghe.com")) {
    const web = hostname.startsWith("api.") ? hostname.slice("api.".length) : hostname;
    if (web !== hostname) note = `--github-url is the web address: using https://${web}`;
    return { host: { kind: "ghe.com", webUrl: `https://${web}`, apiUrl: `https://api.${web}` }, note };
  }
  const webUrl = `${parsed.origin}${path}`;
  return { host: { kind: "ghes", webUrl, apiUrl: `${webUrl}/api/v3` }, note };
}

/** The page a manifest is posted to: the signed-in user's, or the organization's. */
export function newAppPageUrl(host: GitHubHost, org: string | undefined, state: string): string {
  const page =
    org === undefined
      ? `${host.webUrl}/settings/apps/new`
      : `${host.webUrl}/organizations/${encodeURIComponent(org)}/settings/apps/new`;
  return `${page}?state=${encodeURIComponent(state)}`;
}

/** Where the App is installed on accounts and repositories. */
export function installationUrl(host: GitHubHost, slug: string): string {
  return `${host.webUrl}/apps/${encodeURIComponent(slug)}/installations/new`;
}

/** The list of Apps the account owns, where one is found to be deleted. */
export function appsSettingsUrl(host: GitHubHost, org: string | undefined): string {
  const owner =
    org === undefined
      ? `${host.webUrl}/settings`
      : `${host.webUrl}/organizations/${encodeURIComponent(org)}/settings`;
  return `${owner}/apps`;
}

/** The App's settings (keys, webhook, deletion), under the account that owns it. */
export function appSettingsUrl(host: GitHubHost, slug: string, org: string | undefined): string {
  return `${appsSettingsUrl(host, org)}/${encodeURIComponent(slug)}`;
}
