/**
 * What GitHub accepts in an App manifest (docs: "Registering a GitHub App from a manifest"): `url` is required;
 * `hook_attributes` needs its own `url`; URLs are absolute http(s); `callback_urls` holds at most 10; names are
 * 1–34 characters; `default_permissions` names App permissions with a level each permits, and
 * `default_events` names webhook events. test/node checks both lists against GitHub's OpenAPI description and
 * @octokit/webhooks, so they cannot drift.
 */

/** Permission → the levels GitHub's `app-permissions` schema allows (github.com and GHES together). */
const READ_WRITE = [
  "actions",
  "administration",
  "artifact_metadata",
  "attestations",
  "checks",
  "code_quality",
  "codespaces",
  "contents",
  "custom_properties_for_organizations",
  "dependabot_secrets",
  "deployments",
  "discussions",
  "email_addresses",
  "enterprise_administration",
  "enterprise_custom_properties",
  "environments",
  "followers",
  "git_ssh_keys",
  "gpg_keys",
  "interaction_limits",
  "issues",
  "members",
  "merge_queues",
  "metadata",
  "organization_administration",
  "organization_announcement_banners",
  "organization_copilot_agent_settings",
  "organization_copilot_seat_management",
  "organization_custom_org_roles",
  "organization_custom_roles",
  "organization_hooks",
  "organization_packages",
  "organization_personal_access_token_requests",
  "organization_personal_access_tokens",
  "organization_secrets",
  "organization_self_hosted_runners",
  "organization_user_blocking",
  "packages",
  "pages",
  "pull_requests",
  "repository_custom_properties",
  "repository_hooks",
  "secret_scanning_alerts",
  "secrets",
  "security_events",
  "single_file",
  "starring",
  "statuses",
  "vulnerability_alerts",
];
const WITH_ADMIN = [
  "enterprise_custom_properties_for_organizations",
  "organization_custom_properties",
  "organization_projects",
  "repository_projects",
];

export const APP_PERMISSION_LEVELS: Readonly<Record<string, readonly string[]>> = Object.fromEntries([
  ...READ_WRITE.map((name) => [name, ["read", "write"]]),
  ...WITH_ADMIN.map((name) => [name, ["read", "write", "admin"]]),
  ...["workflows", "profile"].map((name) => [name, ["write"]]),
  ...["organization_events", "organization_plan"].map((name) => [name, ["read"]]),
]);

export const WEBHOOK_EVENTS: ReadonlySet<string> = new Set(
  (
    "branch_protection_configuration branch_protection_rule check_run check_suite code_scanning_alert " +
    "commit_comment create custom_property custom_property_values delete dependabot_alert deploy_key " +
    "deployment deployment_protection_rule deployment_review deployment_status discussion discussion_comment " +
    "fork github_app_authorization gollum installation installation_repositories installation_target " +
    "issue_comment issue_dependencies issues label marketplace_purchase member membership merge_group meta " +
    "milestone org_block organization package page_build personal_access_token_request ping project " +
    "project_card project_column projects_v2 projects_v2_item projects_v2_status_update public pull_request " +
    "pull_request_review pull_request_review_comment pull_request_review_thread push registry_package release " +
    "repository repository_advisory repository_dispatch repository_import repository_ruleset " +
    "repository_vulnerability_alert secret_scanning_alert secret_scanning_alert_location secret_scanning_scan " +
    "security_advisory security_and_analysis sponsorship star status sub_issues team team_add watch " +
    "workflow_dispatch workflow_job workflow_run"
  ).split(" "),
);

export interface Manifest {
  name: string | undefined;
  url: string;
  description: string | undefined;
  hookUrl: string | undefined;
  hookActive: boolean;
  redirectUrl: string | undefined;
  public: boolean;
  permissions: Record<string, string>;
  events: string[];
}

export type ManifestCheck = { ok: true; manifest: Manifest } | { ok: false; status: number; message: string };

const MAX_NAME_LENGTH = 34;
const MAX_CALLBACK_URLS = 10;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isWebUrl(value: unknown): value is string {
  if (typeof value !== "string" || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === "https:" || protocol === "http:";
}

/** The manifest form field's text, checked as GitHub checks it; the first problem found is reported. */
export function validateManifest(text: string | null): ManifestCheck {
  const refuse = (message: string): ManifestCheck => ({ ok: false, status: 422, message });
  if (text === null || text.trim() === "") return { ok: false, status: 400, message: "Missing manifest" };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, message: "Manifest is not valid JSON" };
  }
  if (!isRecord(raw)) return { ok: false, status: 400, message: "Manifest must be a JSON object" };

  const { name, url, description, hook_attributes: hook, redirect_url: redirectUrl } = raw;
  if (!isWebUrl(url)) return refuse("url is required and must be an http(s) URL");
  if (name !== undefined) {
    if (typeof name !== "string" || name.trim() === "") return refuse("name must be a non-empty string");
    if (name.length > MAX_NAME_LENGTH)
      return refuse(`name is too long (maximum is ${MAX_NAME_LENGTH} characters)`);
  }
  if (description !== undefined && typeof description !== "string")
    return refuse("description must be a string");
  if (hook !== undefined) {
    if (!isRecord(hook)) return refuse("hook_attributes must be an object");
    if (!isWebUrl(hook.url)) return refuse("hook_attributes.url is required and must be an http(s) URL");
    if (hook.active !== undefined && typeof hook.active !== "boolean") {
      return refuse("hook_attributes.active must be a boolean");
    }
  }
  for (const key of ["redirect_url", "setup_url"]) {
    if (raw[key] !== undefined && !isWebUrl(raw[key])) return refuse(`${key} must be an http(s) URL`);
  }
  const callbacks = raw.callback_urls;
  if (callbacks !== undefined) {
    if (!Array.isArray(callbacks) || !callbacks.every(isWebUrl)) {
      return refuse("callback_urls must be an array of http(s) URLs");
    }
    if (callbacks.length > MAX_CALLBACK_URLS)
      return refuse(`callback_urls takes at most ${MAX_CALLBACK_URLS} URLs`);
  }
  for (const key of ["public", "request_oauth_on_install", "setup_on_update"]) {
    if (raw[key] !== undefined && typeof raw[key] !== "boolean") return refuse(`${key} must be a boolean`);
  }

  const permissions: Record<string, string> = {};
  const requested = raw.default_permissions;
  if (requested !== undefined) {
    if (!isRecord(requested)) return refuse("default_permissions must be an object");
    for (const [permission, level] of Object.entries(requested)) {
      const levels = APP_PERMISSION_LEVELS[permission];
      if (levels === undefined) return refuse(`default_permissions: unknown permission ${permission}`);
      if (typeof level !== "string" || !levels.includes(level)) {
        return refuse(`default_permissions: ${permission} takes ${levels.join(" or ")}`);
      }
      permissions[permission] = level;
    }
  }
  const events = raw.default_events ?? [];
  if (!Array.isArray(events)) return refuse("default_events must be an array");
  for (const event of events) {
    if (typeof event !== "string" || !WEBHOOK_EVENTS.has(event)) {
      return refuse(`default_events: unknown event ${JSON.stringify(event)}`);
    }
  }

  return {
    ok: true,
    manifest: {
      name: typeof name === "string" ? name : undefined,
      url,
      description: typeof description === "string" ? description : undefined,
      hookUrl: isRecord(hook) && typeof hook.url === "string" ? hook.url : undefined,
      hookActive: !isRecord(hook) || hook.active !== false,
      redirectUrl: typeof redirectUrl === "string" ? redirectUrl : undefined,
      public: raw.public === true,
      permissions,
      events: events.filter((event): event is string => typeof event === "string"),
    },
  };
}
