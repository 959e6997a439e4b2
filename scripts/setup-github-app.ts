/**
 * `npm run setup:github-app -- --worker-url https://<worker>`: creates the Worker's GitHub App with GitHub's
 * manifest flow and stores its credentials in the Worker. A page on 127.0.0.1 posts the manifest to GitHub; GitHub
 * sends the browser back with a one-time code; the code becomes the App's ID, private key and webhook secret,
 * which go to Cloudflare in one `wrangler secret bulk` call (JSON on stdin) and nowhere else: never printed,
 * never written to disk. `--help` for the options; `--dry-run` prints the manifest and the steps.
 */
import { randomBytes } from "node:crypto";
import { exitWithUsageError, UsageError } from "./lib/cli.ts";
import { openInBrowser } from "./lib/github-app/browser.ts";
import { ListenError, startCallbackServer } from "./lib/github-app/callback-server.ts";
import { type ConversionFailure, convertManifestCode } from "./lib/github-app/conversion.ts";
import {
  appSettingsUrl,
  appsSettingsUrl,
  installationUrl,
  newAppPageUrl,
} from "./lib/github-app/github-host.ts";
import { type AppManifest, buildManifest, describePermissions } from "./lib/github-app/manifest.ts";
import { type GitHubAppOptions, parseGitHubAppOptions, USAGE } from "./lib/github-app/options.ts";
import { type Page, resultPage, startPage } from "./lib/github-app/pages.ts";
import {
  appSecretNames,
  appSecrets,
  type CreatedApp,
  describeDryRun,
  ownerDescription,
} from "./lib/github-app/plan.ts";
import { COMMANDS, describeBulkStdin } from "./lib/setup/plan.ts";
import { createWranglerRunner, redact } from "./lib/wrangler.ts";
import { readWorkerConfig } from "./lib/wrangler-config.ts";
import { parseUploadedSecretCount, parseWhoami } from "./lib/wrangler-output.ts";

/** A step that cannot go on; its message says what to do. */
class SetupFailed extends Error {}

let options: GitHubAppOptions;
try {
  options = parseGitHubAppOptions(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) exitWithUsageError(error.message, USAGE);
  throw error;
}
const { github } = options;
// Unguessable, and checked on the way back: it ties GitHub's redirect to this run.
const state = randomBytes(32).toString("hex");
const manifestFor = (redirectUrl: string): AppManifest =>
  buildManifest({
    name: options.name,
    workerUrl: options.workerUrl,
    redirectUrl,
    runnerScope: options.runnerScope,
  });

if (options.dryRun) {
  const redirect = `http://127.0.0.1:${options.port === 0 ? "<port>" : options.port}/callback`;
  process.stdout.write(`${describeDryRun(options, manifestFor(redirect))}\n`);
  process.exit(0);
}

const config = readWorkerConfig();
/** The App's credentials once GitHub has given them; nothing printed may contain one. */
const secretValues: string[] = [];
const say = (line = "") => process.stdout.write(`${redact(line, secretValues)}\n`);
const accountId = options.accountId ?? config.accountId;
const wrangler = createWranglerRunner({
  secrets: () => secretValues,
  print: say,
  ...(accountId === undefined ? {} : { env: { CLOUDFLARE_ACCOUNT_ID: accountId } }),
});
const settingsOf = (slug: string) => appSettingsUrl(github, slug, options.org);

/** How far the run got: what a failure or Ctrl-C has to tell the operator. */
const progress: { codeArrived: boolean; app: CreatedApp | undefined; stored: boolean } = {
  codeArrived: false,
  app: undefined,
  stored: false,
};

try {
  await run();
} catch (error) {
  if (!(error instanceof SetupFailed)) throw error;
  process.stderr.write(`\n✗ ${redact(error.message, secretValues)}\n`);
  process.exitCode = 1;
}

async function run(): Promise<void> {
  for (const note of options.notes) say(`note: ${note}`);
  // Before any App exists: an App whose credentials cannot be stored is an App to delete by hand.
  await checkLogin();

  let manifest: AppManifest | undefined;
  let outcome: unknown;
  const server = await startCallbackServer({
    port: options.port,
    state,
    startPage: (redirectUrl) => {
      manifest = manifestFor(redirectUrl);
      return startPage({
        manifest,
        action: newAppPageUrl(github, options.org, state),
        owner: ownerDescription(options),
        nonce: randomBytes(16).toString("base64"),
      });
    },
    onCode: async (code) => {
      progress.codeArrived = true;
      try {
        return await complete(code);
      } catch (error) {
        outcome = error;
        return failurePage(error);
      }
    },
    log: say,
  }).catch((error: unknown) => {
    throw error instanceof ListenError ? new SetupFailed(error.message) : error;
  });

  const stopOnInterrupt = () => {
    if (!progress.codeArrived) {
      say("\nStopped: no code came back from GitHub, so nothing was stored.");
      void server.close().then(() => process.exit(130));
      return;
    }
    // The credentials exist only in this process now: leaving would lose them.
    say(
      "\n! GitHub's answer is being stored; stopping now would lose the App's private key. Ctrl-C again to stop anyway.",
    );
    process.off("SIGINT", stopOnInterrupt);
    process.once("SIGINT", () => {
      process.stderr.write(`\n✗ ${abandoned()}\n`);
      process.exit(130);
    });
  };
  process.on("SIGINT", stopOnInterrupt);

  say(`Creating the GitHub App "${options.name}" on ${ownerDescription(options)} (${github.webUrl}).`);
  say(`Open this page in your browser if it does not open by itself: ${server.pageUrl}`);
  if (options.open && !(await openInBrowser(server.pageUrl)))
    say("  (no browser opener was found: open the page yourself)");
  say(`Waiting up to ${options.timeoutSeconds} seconds for GitHub to send the browser back (Ctrl-C stops).`);

  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), options.timeoutSeconds * 1000);
    });
    const first = await Promise.race([server.handled.then(() => "handled" as const), timedOut]);
    // A code that came in just before the deadline is seen through: its App exists.
    if (first === "timeout" && !progress.codeArrived)
      throw new SetupFailed(
        `GitHub did not send the browser back to ${server.redirectUrl} within ${options.timeoutSeconds} s; ` +
          "nothing was stored.\n" +
          `  If you did create the App on GitHub (the browser could not reach 127.0.0.1, say), delete it under\n` +
          `  ${appsSettingsUrl(github, options.org)} and run this again; with the browser on another machine,\n` +
          "  forward the port: --port <port> and ssh -L <port>:127.0.0.1:<port> …",
      );
    await server.handled;
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", stopOnInterrupt);
    await server.close();
  }
  if (outcome !== undefined) throw outcome;
  if (progress.app === undefined || manifest === undefined) throw new SetupFailed("GitHub's answer was lost");
  summarize(progress.app, manifest);
}

async function checkLogin(): Promise<void> {
  const result = await wrangler.run(COMMANDS.whoami);
  const whoami = parseWhoami(result.stdout);
  if (whoami?.loggedIn === false)
    throw new SetupFailed(
      "wrangler is not logged in to Cloudflare, so the App's credentials could not be stored; no App was created.\n" +
        "  Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then run this again.",
    );
  if (result.code !== 0 || whoami === undefined)
    throw new SetupFailed(`\`wrangler whoami\` failed; no App was created:\n${result.output}`);
  if (accountId === undefined && whoami.accounts.length > 1)
    throw new SetupFailed(
      "your Cloudflare login can use several accounts; choose one with --account-id <id> (or CLOUDFLARE_ACCOUNT_ID):\n" +
        whoami.accounts.map((account) => `    ${account.id}  ${account.name}`).join("\n"),
    );
  say(`✓ wrangler is logged in as ${whoami.email ?? whoami.authType ?? "an API token"}`);
}

/** The code, exchanged and stored; the browser's page says how it went. */
async function complete(code: string): Promise<Page> {
  say("✓ GitHub sent the browser back with a code; exchanging it for the App's credentials");
  const result = await convertManifestCode({ apiUrl: github.apiUrl, code });
  if (!result.ok) throw new SetupFailed(describeFailure(result.failure));
  const { app } = result;
  // Known from here on: the redactor blanks them out of everything printed, wrangler's echo included.
  secretValues.push(app.pem, app.client_secret, ...(app.webhook_secret === null ? [] : [app.webhook_secret]));
  const webhookSecret = app.webhook_secret;
  if (webhookSecret === null)
    throw new SetupFailed(
      `GitHub created the App ${app.slug} without a webhook secret, which the Worker needs: delete it at ${settingsOf(app.slug)} and run this again.`,
    );
  progress.app = { ...app, webhook_secret: webhookSecret };
  say(
    `✓ created the GitHub App "${app.name}" (ID ${app.id}, slug ${app.slug}) on ${app.owner?.login ?? "?"}`,
  );

  const secrets = appSecrets(progress.app, options);
  const names = secrets.map((secret) => secret.name);
  // One line of JSON: wrangler joins piped lines with nothing between them; the PEM's line breaks travel as \n.
  const json = JSON.stringify(Object.fromEntries(secrets.map((secret) => [secret.name, secret.value])));
  const stored = await wrangler.run(COMMANDS.secretBulk, {
    stdin: { text: json, describe: describeBulkStdin(names) },
    echo: true,
  });
  // `secret bulk` exits 0 when it read nothing it could parse: count what it says it uploaded.
  if (stored.code !== 0 || parseUploadedSecretCount(stored.stdout) !== secrets.length)
    throw new SetupFailed(
      `\`wrangler secret bulk\` did not store ${names.join(", ")}: its output is above.\n  ${abandoned()}`,
    );
  progress.stored = true;
  say(`✓ stored ${names.join(", ")} in the Worker ${config.name}`);
  return resultPage(`Created ${app.name}`, [
    { text: `Its ID, private key and webhook secret are stored in the Worker ${config.name}.` },
    { text: `Next, install it on ${installTarget()}:`, link: installationUrl(github, app.slug) },
  ]);
}

function describeFailure(failure: ConversionFailure): string {
  const retry = `If GitHub lists the App under ${appsSettingsUrl(github, options.org)}, delete it; then run this again.`;
  switch (failure.reason) {
    case "gone":
      return `GitHub no longer knows the code (a code works once, within an hour of the manifest being posted). ${retry}`;
    case "refused":
      return `GitHub refused the code (HTTP ${failure.status}${failure.message === undefined ? "" : `: ${failure.message}`}). ${retry}`;
    case "unreachable":
      return `could not reach ${github.apiUrl} to exchange the code (${failure.message}). ${retry}`;
    case "unreadable":
      return `GitHub's answer to the code lacks what this script needs (${failure.fields.join(", ")}); nothing was stored. ${retry}`;
  }
}

/** What to do about an App that exists on GitHub but whose credentials this run could not store. */
function abandoned(): string {
  const app = progress.app;
  if (app === undefined || progress.stored) return "No App credentials were lost.";
  return (
    `The App ${app.slug} exists on GitHub, but its private key was only ever in this process and is gone.\n` +
    `  Delete the App (${settingsOf(app.slug)} → Advanced → Delete GitHub App) and run this again; or generate\n` +
    `  a new private key there and store it with npm run setup -- --github-app-id ${app.id} --github-app-key <file.pem>\n` +
    "  (then set the App's webhook secret to a new one, and store that as WEBHOOK_SECRET)."
  );
}

function installTarget(): string {
  return options.org === undefined
    ? "the repositories whose jobs should run on Modal"
    : `the organization ${options.org} (all repositories, or those whose jobs should run on Modal)`;
}

function failurePage(error: unknown): Page {
  const text = error instanceof Error ? redact(error.message, secretValues) : "see the terminal";
  return resultPage("The App's credentials were not stored", [{ text }], 502);
}

function summarize(app: CreatedApp, manifest: AppManifest): void {
  say();
  say(`GitHub App ${app.name}`);
  say(`  App ID        ${app.id}`);
  say(`  Slug          ${app.slug}`);
  say(`  Owner         ${app.owner?.login ?? ownerDescription(options)}`);
  say(`  Webhook       ${manifest.hook_attributes.url} (workflow_job)`);
  say(`  Permissions   ${describePermissions(manifest.default_permissions)}`);
  say(`  Settings      ${settingsOf(app.slug)}`);
  say(`  Secrets       ${appSecretNames(options).join(", ")}, stored in the Worker ${config.name}`);
  say();
  say("Next:");
  say(`  1. Install the App on ${installTarget()}:`);
  say(`       ${installationUrl(github, app.slug)}`);
  say(
    "  2. A deployed Worker uses the new secrets at once. Not deployed yet? `npm run setup` (it keeps this",
  );
  say("     WEBHOOK_SECRET) or `npx wrangler deploy`.");
  say();
  say(
    "! WEBHOOK_SECRET is now the App's webhook secret. A repository or organization webhook that points at this",
  );
  say(
    "  Worker with another secret is refused from now on: remove it, the App's webhook delivers the same jobs.",
  );
}
