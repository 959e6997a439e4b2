/**
 * The GitHub App manifest flow: the web page a manifest is posted to (`/settings/apps/new` for the signed-in
 * user, `/organizations/{org}/settings/apps/new` for an organization; on GHES outside `/api/v3`) answers 302 to
 * the manifest's `redirect_url` with `code` and `state`; `POST /app-manifests/{code}/conversions` turns the
 * code (single use, one hour) into the App's id, slug, client secret, webhook secret and PKCS#1 key.
 *
 * GitHub shows a confirmation page in between; the emulator skips it, as if the user clicked "Create". The new
 * App is registered (its JWTs authenticate from then on) with its hook on `hook_attributes.url`. Chosen here,
 * not GitHub's behaviour: an App created for an organization is also installed on it at once (GitHub leaves
 * installing to the user), so a test can go from manifest to installation token without a browser.
 */
import type { ApiResponse } from "./api.ts";
import { generateAppKeyPair } from "./app-keys.ts";
import type { Permissions } from "./control.ts";
import { type Manifest, validateManifest } from "./manifest-rules.ts";
import { accountJson, appJson } from "./repository-bodies.ts";
import { type AccountType, accountOf, type Namespace, nowOf, organizationExists } from "./state.ts";

export interface ManifestCode {
  manifest: Manifest;
  /** The account that will own the App. */
  owner: string;
  ownerType: AccountType;
  /** Milliseconds since the epoch (emulator clock). */
  expiresAt: number;
}

export interface WebAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const CODE_LIFETIME_MS = 60 * 60 * 1000;
/** Who is signed in to the web UI of every namespace. */
export const WEB_USER = "octocat";

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
}

function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function page(status: number, message: string): WebAnswer {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body: message };
}

/** The web paths of the flow, matched before the API's: the organization, or null for the user's own page. */
export function manifestPage(method: string, path: string): { org: string | null } | undefined {
  if (method !== "POST") return undefined;
  if (/^\/settings\/apps\/new\/?$/.test(path)) return { org: null };
  const match = /^\/organizations\/([^/]+)\/settings\/apps\/new\/?$/.exec(path);
  return match === null ? undefined : { org: decodeURIComponent(match[1] ?? "") };
}

export async function submitManifest(
  ns: Namespace,
  input: { org: string | null; url: URL; body: string; base: string },
): Promise<WebAnswer> {
  const form = new URLSearchParams(input.body);
  const state = input.url.searchParams.get("state") ?? form.get("state");
  if (input.org !== null && !organizationExists(ns, input.org)) return page(404, "Not Found");
  const check = validateManifest(form.get("manifest"));
  if (!check.ok) return page(check.status, check.message);
  const { manifest } = check;

  const owner = input.org ?? WEB_USER;
  if (input.org === null) accountOf(ns, WEB_USER).type = "User";
  const name = manifest.name ?? `${owner}-app-${ns.nextEntityId}`;
  if ([...ns.apps.values()].some((app) => app.slug === slugOf(name))) {
    return page(422, "Name is already in use");
  }
  const entry: ManifestCode = {
    manifest: { ...manifest, name },
    owner,
    ownerType: input.org === null ? "User" : "Organization",
    expiresAt: nowOf(ns) + CODE_LIFETIME_MS,
  };
  if (manifest.redirectUrl === undefined) {
    // Without a redirect_url GitHub creates the App and shows its settings page; no code leaves the browser.
    const app = await registerApp(ns, entry, input.base);
    return { status: 302, headers: { location: app.html_url }, body: "" };
  }
  const code = randomHex(20);
  ns.manifestCodes.set(code, entry);
  const location = new URL(manifest.redirectUrl);
  location.searchParams.set("code", code);
  if (state !== null) location.searchParams.set("state", state);
  return { status: 302, headers: { location: location.toString() }, body: "" };
}

/** Levels an installation keeps: its token reads `admin` as the most it can do, `write`. */
function installationPermissions(permissions: Record<string, string>): Permissions {
  return Object.fromEntries(
    Object.entries(permissions).map(([name, level]) => [name, level === "read" ? "read" : "write"]),
  );
}

async function registerApp(ns: Namespace, entry: ManifestCode, base: string) {
  const { manifest } = entry;
  const name = manifest.name ?? "app";
  const keys = await generateAppKeyPair();
  const now = nowOf(ns);
  const id = ns.nextEntityId++;
  const clientId = `Iv23li${randomHex(7)}`;
  const permissions = { metadata: "read", ...manifest.permissions };
  const app = {
    id,
    clientId,
    publicKey: keys.publicKey,
    slug: slugOf(name),
    name,
    owner: entry.owner.toLowerCase(),
    permissions: installationPermissions(permissions),
    events: manifest.events,
    createdAt: now,
  };
  ns.apps.set(id, app);
  const webhookSecret = manifest.hookUrl === undefined ? null : randomHex(20);
  if (manifest.hookUrl !== undefined && manifest.hookActive) {
    const hookId = ns.nextEntityId++;
    ns.hooks.set(hookId, {
      id: hookId,
      kind: "app",
      repository: undefined,
      organization: undefined,
      appId: id,
      url: manifest.hookUrl,
      secret: webhookSecret ?? undefined,
      contentType: "json",
      deliveries: [],
    });
  }
  if (entry.ownerType === "Organization") {
    const installationId = ns.nextEntityId++;
    ns.installations.set(installationId, {
      id: installationId,
      appId: id,
      account: entry.owner.toLowerCase(),
      permissions: installationPermissions(permissions),
    });
  }
  return {
    ...appJson(ns, app, base),
    // The manifest's own words: its description and URL, and permissions as asked (`admin` included).
    owner: accountJson(ns, entry.owner, base),
    description: manifest.description ?? null,
    external_url: manifest.url,
    permissions,
    client_secret: randomHex(20),
    webhook_secret: webhookSecret,
    pem: keys.pkcs1,
  };
}

/** `POST /app-manifests/{code}/conversions`: no credentials needed, the code is the credential. */
export async function convertManifest(ns: Namespace, code: string, base: string): Promise<ApiResponse> {
  const entry = ns.manifestCodes.get(code);
  // Used codes are gone; expired ones answer as if they never existed.
  ns.manifestCodes.delete(code);
  if (entry === undefined || nowOf(ns) >= entry.expiresAt) {
    return { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };
  }
  return { status: 201, body: await registerApp(ns, entry, base) };
}
