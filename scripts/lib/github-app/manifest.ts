/**
 * The GitHub App manifest `npm run setup:github-app` posts (GitHub's docs: "Registering a GitHub App from a
 * manifest"): the Worker's webhook, `workflow_job` only, and the least the Worker needs for the runner scope it
 * is configured with.
 */
import { randomBytes } from "node:crypto";

export type RunnerScope = "repo" | "org";

/** GitHub's limit on App names; names are also unique across all of GitHub. */
export const MAX_APP_NAME_LENGTH = 34;

export interface AppManifest {
  name: string;
  url: string;
  description: string;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  public: boolean;
  default_permissions: Record<string, "read" | "write">;
  default_events: string[];
}

export interface ManifestInput {
  name: string;
  /** The Worker's base URL, without a trailing slash. */
  workerUrl: string;
  /** Where GitHub sends the browser back with the code: the loopback callback. */
  redirectUrl: string;
  runnerScope: RunnerScope;
}

/**
 * Repository runners are registered with "Administration: read & write" on each repository; organization
 * runners with "Self-hosted runners: read & write" on the organization, and then the App needs no say over
 * its repositories' settings. Both read jobs and runs ("Actions: read"); metadata is granted to every App.
 * The lost-delivery watcher reads the App's own webhook deliveries with the App's JWT, which takes no
 * permission.
 */
export function permissionsFor(scope: RunnerScope): Record<string, "read" | "write"> {
  const runners: Record<string, "write"> =
    scope === "org" ? { organization_self_hosted_runners: "write" } : { administration: "write" };
  return { ...runners, actions: "read", metadata: "read" };
}

/** How GitHub's settings pages name these permissions and levels. */
const PERMISSION_LABELS: Record<string, string> = {
  administration: "Administration (repository)",
  organization_self_hosted_runners: "Self-hosted runners (organization)",
  actions: "Actions (repository)",
  metadata: "Metadata (repository)",
};
const LEVEL_LABELS: Record<string, string> = { read: "read-only", write: "read & write" };

/** `Administration (repository): read & write, …`, for people. */
export function describePermissions(permissions: Record<string, string>): string {
  return Object.entries(permissions)
    .map(([name, level]) => `${PERMISSION_LABELS[name] ?? name}: ${LEVEL_LABELS[level] ?? level}`)
    .join(", ");
}

export function buildManifest(input: ManifestInput): AppManifest {
  return {
    name: input.name,
    url: input.workerUrl,
    description: "Ephemeral GitHub Actions runners on Modal sandboxes, started by a Cloudflare Worker.",
    hook_attributes: { url: `${input.workerUrl}/webhook`, active: true },
    redirect_url: input.redirectUrl,
    // A private App can be installed only on the account that owns it: nobody else can point it at our Worker.
    public: false,
    default_permissions: permissionsFor(input.runnerScope),
    default_events: ["workflow_job"],
  };
}

/** `actions-on-modal-` and 6 hex digits: 23 characters, and unlikely to be taken. */
export function defaultAppName(): string {
  return `actions-on-modal-${randomBytes(3).toString("hex")}`;
}
