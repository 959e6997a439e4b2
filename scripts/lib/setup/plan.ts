/**
 * The wrangler commands `npm run setup` runs, built in one place so that the dry run prints exactly what the
 * real run does, and the plan itself: every step, its command, and the condition it runs under.
 */
import type { WorkerConfig } from "../wrangler-config.ts";
import type { SetupOptions } from "./options.ts";

export const WEBHOOK_SECRET = "WEBHOOK_SECRET";

export const COMMANDS = {
  whoami: ["whoami", "--json"],
  queuesList: (page: number) =>
    page === 1 ? ["queues", "list"] : ["queues", "list", "--page", String(page)],
  queuesCreate: (name: string) => ["queues", "create", name],
  secretList: ["secret", "list", "--format", "json"],
  secretBulk: ["secret", "bulk"],
  deploy: ["deploy"],
} as const;

/** What the log and the plan show for the bulk call's stdin: the JSON's shape, with names for the values. */
export function describeBulkStdin(names: readonly string[]): string {
  return `JSON on stdin ${JSON.stringify(Object.fromEntries(names.map((name) => [name, `<${name}>`])))}`;
}

const wrangler = (args: readonly string[]) => `wrangler ${args.join(" ")}`;

export function describePlan(config: WorkerConfig, options: SetupOptions): string {
  const lines: string[] = [];
  let step = 0;
  const add = (what: string, ...details: string[]) => {
    step += 1;
    lines.push(`${step}. ${what}`, ...details.map((detail) => `     ${detail}`));
  };
  add(
    wrangler(COMMANDS.whoami),
    options.accountId === undefined
      ? "stops here unless wrangler is logged in to one account (several: choose with --account-id)"
      : `stops here unless wrangler is logged in; every command runs with CLOUDFLARE_ACCOUNT_ID=${options.accountId}`,
  );
  add(
    wrangler(COMMANDS.queuesList(1)),
    `then \`${wrangler(COMMANDS.queuesList(2))}\`, 3, … only while a queue below is still unseen and the last page had rows`,
  );
  for (const queue of config.queues)
    add(wrangler(COMMANDS.queuesCreate(queue)), "only if the list does not show it");
  add(wrangler(COMMANDS.secretList), "(a Worker not deployed yet has none)");

  const webhook = {
    "generate-if-missing": `${WEBHOOK_SECRET}: generated here (32 random bytes, hex) only if the list does not show it`,
    keep: `${WEBHOOK_SECRET}: kept as it is (--keep-webhook-secret); none is generated`,
    rotate: `${WEBHOOK_SECRET}: generated here (32 random bytes, hex), replacing the stored one (--rotate-webhook-secret)`,
  }[options.webhookSecret];
  const generates = options.webhookSecret !== "keep";
  if (generates && options.secretFile !== undefined)
    add(
      `write the generated ${WEBHOOK_SECRET} to ${options.secretFile} (mode 0600)`,
      "only if one is generated",
    );

  const names = [...(generates ? [WEBHOOK_SECRET] : []), ...options.secrets.map((secret) => secret.name)];
  const width = Math.max(...names.map((name) => name.length));
  const sources = [
    ...(generates ? [`${WEBHOOK_SECRET.padEnd(width)}  ${webhook.replace(`${WEBHOOK_SECRET}: `, "")}`] : []),
    ...options.secrets.map(
      (secret) => `${secret.name.padEnd(width)}  from ${secret.source}${pemNote(secret.value)}`,
    ),
  ];
  if (names.length === 0) {
    add(`${wrangler(COMMANDS.secretBulk)}: skipped, there is nothing to store`, webhook);
  } else {
    const skip = options.secrets.length === 0 ? ["skipped if no WEBHOOK_SECRET is generated"] : [];
    add(`${wrangler(COMMANDS.secretBulk)} < ${describeBulkStdin(names)}`, ...sources, ...skip);
    if (!generates) lines.push(`     ${webhook}`);
  }
  if (generates && options.printSecret)
    add(`print the generated ${WEBHOOK_SECRET} once (--print-secret)`, "only if one is generated");
  add(wrangler(COMMANDS.deploy));
  add(
    "print the webhook URL (the deployed workers.dev URL, custom domain or route, + /webhook) and the next step",
  );
  for (const note of options.notes) lines.push(`note: ${note}`);

  return [
    `Plan for the Worker "${config.name}" (dry run: nothing is run and nothing is changed)`,
    "",
    ...lines,
  ].join("\n");
}

function pemNote(value: string): string {
  if (!value.includes("-----BEGIN")) return "";
  return ` (PEM, ${value.trimEnd().split(/\r?\n/).length} lines, line breaks kept)`;
}
