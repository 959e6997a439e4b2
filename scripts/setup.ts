/**
 * `npm run setup`: from a fresh clone to a deployed Worker in one command, and safe to run again. It checks the
 * wrangler login, creates the queues wrangler.toml names that do not exist yet, generates a webhook secret when
 * the Worker has none, stores secrets with one `wrangler secret bulk` (JSON on stdin), deploys, and prints the
 * webhook URL. `npm run setup -- --help` for the options; `--dry-run` prints the plan and changes nothing.
 */
import { exitWithUsageError } from "./lib/cli.ts";
import {
  DEFAULT_SECRET_FILE,
  parseSetupOptions,
  type SecretInput,
  type SetupOptions,
  USAGE,
  UsageError,
} from "./lib/setup/options.ts";
import { COMMANDS, describeBulkStdin, describePlan, WEBHOOK_SECRET } from "./lib/setup/plan.ts";
import { generateWebhookSecret, writeSecretFile } from "./lib/setup/webhook-secret.ts";
import { createWranglerRunner, redact } from "./lib/wrangler.ts";
import { readWorkerConfig } from "./lib/wrangler-config.ts";
import {
  isWorkerNotFound,
  parseDeployTargets,
  parseQueueNames,
  parseSecretNames,
  parseUploadedSecretCount,
  parseWhoami,
  type WorkerUrl,
  workerUrlFromTargets,
} from "./lib/wrangler-output.ts";

/** A step that cannot go on; its message says what to do. */
class SetupFailed extends Error {}

const MAX_QUEUE_PAGES = 100;

let options: SetupOptions;
try {
  options = parseSetupOptions(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) exitWithUsageError(error.message, USAGE);
  throw error;
}
const config = readWorkerConfig();

if (options.dryRun) {
  process.stdout.write(`${describePlan(config, options)}\n`);
  process.exit(0);
}

/** Every secret value this run knows; nothing it prints may contain one (but --print-secret's one line). */
const secretValues = options.secrets.map((secret) => secret.value);
const say = (line = "") => process.stdout.write(`${redact(line, secretValues)}\n`);
const accountId = options.accountId ?? config.accountId;
const wrangler = createWranglerRunner({
  secrets: () => secretValues,
  print: say,
  ...(accountId === undefined ? {} : { env: { CLOUDFLARE_ACCOUNT_ID: accountId } }),
});
const indent = (text: string) =>
  text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");

try {
  await run();
} catch (error) {
  if (!(error instanceof SetupFailed)) throw error;
  process.stderr.write(`\n✗ ${redact(error.message, secretValues)}\n`);
  process.exitCode = 1;
}

async function run(): Promise<void> {
  for (const note of options.notes) say(`note: ${note}`);
  await checkLogin();
  await createMissingQueues(config.queues);
  const stored = await storedSecretNames();
  const generated = webhookSecret(stored);
  const toStore: SecretInput[] = [
    ...(generated === undefined ? [] : [{ name: WEBHOOK_SECRET, value: generated, source: "generated" }]),
    ...options.secrets,
  ];
  await storeSecrets(toStore, generated);
  if (generated !== undefined && options.printSecret) {
    // The one line that shows a secret, asked for with --print-secret: written around the redactor on purpose.
    process.stdout.write(
      `\n${WEBHOOK_SECRET} (shown this once; Cloudflare cannot show it again): ${generated}\n\n`,
    );
  }
  const url = await deploy();
  summarize(url, generated, [...stored, ...toStore.map((secret) => secret.name)]);
}

async function checkLogin(): Promise<void> {
  const result = await wrangler.run(COMMANDS.whoami);
  const whoami = parseWhoami(result.stdout);
  if (whoami?.loggedIn === false)
    throw new SetupFailed(
      "wrangler is not logged in to Cloudflare.\n" +
        "  Run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then `npm run setup` again.",
    );
  if (result.code !== 0 || whoami === undefined)
    throw new SetupFailed(
      `\`wrangler whoami\` failed:\n${indent(result.output)}\n` +
        "  If wrangler is not logged in, run `npx wrangler login`, then `npm run setup` again.",
    );
  const who = whoami.email ?? whoami.authType ?? "an API token";
  if (accountId === undefined && whoami.accounts.length > 1) {
    const accounts = whoami.accounts.map((account) => `    ${account.id}  ${account.name}`).join("\n");
    // wrangler cannot ask which one when its output is read by a script; it would fail at the first change.
    throw new SetupFailed(
      `${who} can use several Cloudflare accounts; choose one with --account-id <id> ` +
        `(or CLOUDFLARE_ACCOUNT_ID):\n${accounts}`,
    );
  }
  const account = whoami.accounts.find((candidate) => candidate.id === accountId) ?? whoami.accounts[0];
  say(`✓ logged in as ${who}${account === undefined ? "" : ` (account ${account.name})`}`);
}

async function createMissingQueues(queues: readonly string[]): Promise<void> {
  const seen = new Set<string>();
  for (let page = 1; page <= MAX_QUEUE_PAGES; page += 1) {
    const result = await wrangler.run(COMMANDS.queuesList(page));
    if (result.code !== 0)
      throw new SetupFailed(`\`wrangler queues list\` failed:\n${indent(result.output)}`);
    const names = parseQueueNames(result.stdout);
    for (const name of names) seen.add(name);
    if (names.length === 0 || queues.every((queue) => seen.has(queue))) break;
  }
  for (const queue of queues) {
    if (seen.has(queue)) {
      say(`✓ queue ${queue} exists`);
      continue;
    }
    const result = await wrangler.run(COMMANDS.queuesCreate(queue), { echo: true });
    if (result.code !== 0)
      throw new SetupFailed(`could not create the queue ${queue}: wrangler's output is above.`);
    say(`✓ created queue ${queue}`);
  }
}

async function storedSecretNames(): Promise<string[]> {
  const result = await wrangler.run(COMMANDS.secretList);
  if (result.code !== 0) {
    if (!isWorkerNotFound(result.output))
      throw new SetupFailed(`\`wrangler secret list\` failed:\n${indent(result.output)}`);
    say(`✓ the Worker is not deployed yet, so it has no secrets`);
    return [];
  }
  const names = parseSecretNames(result.stdout);
  if (names === undefined)
    throw new SetupFailed(`could not read the output of \`wrangler secret list\`:\n${indent(result.output)}`);
  say(`✓ the Worker has ${names.length === 0 ? "no secrets" : `the secrets ${names.join(", ")}`}`);
  return names;
}

/** The webhook secret generated in this run, if the policy and the stored secrets call for one. */
function webhookSecret(stored: readonly string[]): string | undefined {
  const isStored = stored.includes(WEBHOOK_SECRET);
  if (options.webhookSecret === "keep" || (options.webhookSecret === "generate-if-missing" && isStored)) {
    if (isStored) say(`✓ ${WEBHOOK_SECRET} is stored: kept`);
    else
      say(
        `! no ${WEBHOOK_SECRET} is stored and --keep-webhook-secret leaves it so: the Worker refuses every ` +
          `delivery until one is set (\`npx wrangler secret put ${WEBHOOK_SECRET}\`)`,
      );
    return undefined;
  }
  const secret = generateWebhookSecret();
  secretValues.push(secret);
  const why = isStored ? "replacing the stored one (--rotate-webhook-secret)" : "none was stored";
  // Written before it is stored: a secret Cloudflare holds but nobody has would only force another rotation.
  if (options.secretFile !== undefined) {
    try {
      writeSecretFile(options.secretFile, secret);
    } catch (error) {
      throw new SetupFailed(
        `could not write the webhook secret to ${options.secretFile} (${error instanceof Error ? error.message : error}); nothing was stored.`,
      );
    }
    say(`✓ generated a new ${WEBHOOK_SECRET} (${why}), written to ${options.secretFile} (mode 0600)`);
  } else {
    say(`✓ generated a new ${WEBHOOK_SECRET} (${why}); it is printed once, after it is stored`);
  }
  return secret;
}

async function storeSecrets(secrets: readonly SecretInput[], generated: string | undefined): Promise<void> {
  if (secrets.length === 0) {
    say("✓ no secrets to store");
    return;
  }
  const names = secrets.map((secret) => secret.name);
  // wrangler reads piped bulk input line by line and joins the lines with nothing between them, so the JSON
  // must be a single line: JSON.stringify writes a PEM's line breaks as `\n` escapes, and wrangler's JSON.parse
  // turns them back into line breaks.
  const json = JSON.stringify(Object.fromEntries(secrets.map((secret) => [secret.name, secret.value])));
  const result = await wrangler.run(COMMANDS.secretBulk, {
    stdin: { text: json, describe: describeBulkStdin(names) },
    echo: true,
  });
  // `secret bulk` exits 0 when it read nothing it could parse: count what it says it uploaded.
  if (result.code !== 0 || parseUploadedSecretCount(result.stdout) !== secrets.length) {
    const lost =
      generated !== undefined && options.secretFile !== undefined
        ? ` The webhook secret in ${options.secretFile} is not stored; the next run generates another.`
        : "";
    throw new SetupFailed(
      `\`wrangler secret bulk\` did not store ${names.join(", ")}: its output is above.${lost}`,
    );
  }
  say(`✓ stored ${secrets.map((secret) => `${secret.name} (${secret.source})`).join(", ")}`);
}

async function deploy(): Promise<WorkerUrl | undefined> {
  const result = await wrangler.run(COMMANDS.deploy, { echo: true });
  if (result.code !== 0)
    throw new SetupFailed(
      "`wrangler deploy` failed: its output is above. Fix the cause and run `npm run setup` again; " +
        "what is done is kept (queues, secrets).",
    );
  return workerUrlFromTargets(parseDeployTargets(result.stdout));
}

function summarize(
  url: WorkerUrl | undefined,
  generated: string | undefined,
  secretNames: readonly string[],
) {
  const base = url?.url ?? "https://<your Worker's URL>";
  say();
  say(`Deployed ${config.name}.`);
  say();
  say(`  Webhook URL     ${base}/webhook${url === undefined ? "" : `   (${url.kind})`}`);
  if (url === undefined)
    say("                  (wrangler deploy printed no workers.dev URL or root route: use the Worker's own)");
  if (generated === undefined) {
    say(
      "  Webhook secret  the stored one, kept. Cloudflare cannot show it: use the value saved when it was set",
    );
    say(
      `                  (setup writes a secret it generates to --secret-file, ${DEFAULT_SECRET_FILE} by default).`,
    );
  } else if (options.secretFile !== undefined) {
    say(
      `  Webhook secret  in ${options.secretFile} (mode 0600), generated now. Cloudflare cannot show it again:`,
    );
    say("                  paste it into GitHub, then delete the file.");
  } else {
    say("  Webhook secret  printed above, generated now. Cloudflare cannot show it again.");
  }
  say(`  Health          ${base}/healthz (503 lists what is missing, by name)`);
  say();
  say(
    "Next: add the webhook on GitHub (the repository's or organization's Settings → Webhooks → Add webhook):",
  );
  say(`  Payload URL   ${base}/webhook`);
  say("  Content type  application/json");
  say("  Secret        the webhook secret");
  say("  Events        Let me select individual events → Workflow jobs (only)");
  say(`Or, with a GitHub App instead: npm run setup:github-app -- --worker-url ${base}`);
  say("  (it creates the App with this webhook URL, and stores the App's own webhook secret and key).");

  const has = (name: string) => secretNames.includes(name);
  const missing: string[] = [];
  if (!has("GITHUB_TOKEN") && !(has("GITHUB_APP_ID") && has("GITHUB_APP_PRIVATE_KEY")))
    missing.push("GITHUB_TOKEN (or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY)");
  const modal = has("MODAL_LAUNCHER_URL")
    ? ["MODAL_PROXY_TOKEN_ID", "MODAL_PROXY_TOKEN_SECRET", "LAUNCHER_SECRET"]
    : ["MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"];
  missing.push(...modal.filter((name) => !has(name)));
  if (missing.length > 0) {
    say();
    say(`! Not among the Worker's secrets: ${missing.join(", ")}.`);
    say("  Until they are set, jobs wait on the queue and /healthz says why. Pass them to `npm run setup`");
    say(
      "  (see --help); a variable set in the dashboard instead is removed by the next deploy unless keep_vars.",
    );
  }
}
