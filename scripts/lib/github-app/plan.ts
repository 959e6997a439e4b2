/**
 * What `npm run setup:github-app` stores, and the plan its dry run prints: built here once so that the dry run
 * names exactly the secrets and requests the real run makes.
 */
import type { SecretInput } from "../setup/options.ts";
import { COMMANDS, describeBulkStdin, WEBHOOK_SECRET } from "../setup/plan.ts";
import type { Conversion } from "./conversion.ts";
import { installationUrl, newAppPageUrl } from "./github-host.ts";
import type { AppManifest } from "./manifest.ts";
import type { GitHubAppOptions } from "./options.ts";

/** An App's credentials as the conversion gave them, the webhook secret known to be there. */
export type CreatedApp = Conversion & { webhook_secret: string };

interface SecretSpec {
  name: string;
  source: string;
  value: (app: CreatedApp) => string;
  /** Set for values that are no secret and known before GitHub answers: the plan shows them. */
  known?: string;
}

/** One list for the names (the plan, before any App exists) and the values (after the conversion). */
function secretSpecs(options: GitHubAppOptions): SecretSpec[] {
  const source = "GitHub's manifest conversion";
  const specs: SecretSpec[] = [
    { name: "GITHUB_APP_ID", source, value: (app) => String(app.id) },
    { name: "GITHUB_APP_PRIVATE_KEY", source, value: (app) => app.pem },
    { name: WEBHOOK_SECRET, source, value: (app) => app.webhook_secret },
  ];
  const { apiUrl } = options.github;
  // GITHUB_API_URL rather than GITHUB_ENTERPRISE_DOMAIN: it says the whole address, GHE.com's API host included.
  if (options.github.kind !== "github.com")
    specs.push({ name: "GITHUB_API_URL", source: "--github-url", value: () => apiUrl, known: apiUrl });
  // The App has no Administration permission on repositories then: the Worker must register organization runners.
  if (options.runnerScope === "org")
    specs.push({ name: "RUNNER_SCOPE", source: "--runner-scope", value: () => "org", known: "org" });
  return specs;
}

/** The Worker's secrets for this App: its ID, key and webhook secret, and where GitHub is when not github.com. */
export function appSecrets(app: CreatedApp, options: GitHubAppOptions): SecretInput[] {
  return secretSpecs(options).map((spec) => ({
    name: spec.name,
    source: spec.source,
    value: spec.value(app),
  }));
}

export function appSecretNames(options: GitHubAppOptions): string[] {
  return secretSpecs(options).map((spec) => spec.name);
}

export function ownerDescription(options: GitHubAppOptions): string {
  return options.org === undefined
    ? "your own account (the one signed in to GitHub)"
    : `the organization ${options.org}`;
}

/** Placeholders put into URLs after they are built, so that they are not percent-encoded. */
const STATE = "__STATE__";
const SLUG = "__SLUG__";

export function describeDryRun(options: GitHubAppOptions, manifest: AppManifest): string {
  const specs = secretSpecs(options);
  const width = Math.max(...specs.map((spec) => spec.name.length));
  const sources = specs.map(
    (spec) =>
      `     ${spec.name.padEnd(width)}  ${spec.known === undefined ? `from ${spec.source}` : `${spec.known} (${spec.source})`}`,
  );
  const page = options.port === 0 ? "http://127.0.0.1:<port>/" : `http://127.0.0.1:${options.port}/`;
  const lines = [
    `GitHub App manifest for ${options.github.webUrl} (dry run: nothing is started, posted or stored)`,
    "",
    JSON.stringify(manifest, null, 2),
    "",
    `1. wrangler ${COMMANDS.whoami.join(" ")}`,
    "     stops here unless wrangler is logged in (to one account, or the one --account-id names)",
    `2. serve ${page} on loopback${options.port === 0 ? " (<port>: any free one)" : ""} and ${options.open ? "open it in the browser" : "print it (--no-open)"}`,
    `3. the page posts the manifest to ${newAppPageUrl(options.github, options.org, STATE).replace(STATE, "<random state>")}`,
    `     the App is created on ${ownerDescription(options)} once you confirm on GitHub`,
    `4. GitHub sends the browser to ${manifest.redirect_url}?code=<code>&state=<state>`,
    "     a state other than this run's is refused",
    `5. POST ${options.github.apiUrl}/app-manifests/<code>/conversions (no credentials: the code is one)`,
    "     → the App's ID, slug, private key and webhook secret, never printed or written to disk",
    `6. wrangler ${COMMANDS.secretBulk.join(" ")} < ${describeBulkStdin(appSecretNames(options))}`,
    ...sources,
    `7. print the App's ID, slug and installation URL (${installationUrl(options.github, SLUG).replace(SLUG, "<slug>")})`,
    "",
    `Gives up after ${options.timeoutSeconds} seconds without GitHub's answer; Ctrl-C stops it.`,
  ];
  for (const note of options.notes) lines.push(`note: ${note}`);
  return lines.join("\n");
}
