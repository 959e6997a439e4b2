/**
 * An App registration as GitHub's `integration` schema describes it: what `GET /app` answers, and the part of a
 * manifest conversion's answer that is not a credential.
 */
import { base64, iso } from "./bodies.ts";
import { accountJson } from "./repository-bodies.ts";
import { type AppRecord, type Namespace, WEB_USER } from "./state.ts";

/** What a seeded App without permissions stands for: what this project's App asks for. */
export const DEFAULT_APP_PERMISSIONS = {
  administration: "write",
  organization_self_hosted_runners: "write",
  actions: "read",
  metadata: "read",
} as const;

export function appJson(ns: Namespace, app: AppRecord, base: string) {
  return {
    id: app.id,
    slug: app.slug,
    node_id: base64(`A_${app.id}`),
    ...(app.clientId === undefined ? {} : { client_id: app.clientId }),
    // Who registered a seeded App is not recorded; it is shown as the web UI's user.
    owner: accountJson(ns, app.owner === "" ? WEB_USER : app.owner, base),
    name: app.name,
    description: app.description,
    external_url: app.externalUrl,
    html_url: `https://github.com/apps/${app.slug}`,
    created_at: iso(app.createdAt),
    updated_at: iso(app.createdAt),
    permissions: app.permissions ?? DEFAULT_APP_PERMISSIONS,
    events: app.events,
  };
}
