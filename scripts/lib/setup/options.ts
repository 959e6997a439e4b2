/**
 * `npm run setup`'s command line: the usage, and the options turned into what the run needs — the secrets to
 * store (each with where its value came from) and the webhook-secret policy. Nothing here talks to Cloudflare.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseCommandLine, UsageError } from "../cli.ts";

export const USAGE = `Usage: npm run setup -- [options]

Takes this checkout to a deployed Worker. Safe to run again: it creates only the queues that are missing,
stores only the secrets you pass, and keeps the stored webhook secret unless told otherwise.

  1. checks that wrangler is logged in to Cloudflare (if not: npx wrangler login)
  2. creates the queues named in wrangler.toml that \`wrangler queues list\` does not show
  3. generates a webhook secret if the Worker has none yet
  4. stores the secrets with one \`wrangler secret bulk\` call: a JSON object on stdin, never on a command line
  5. runs \`wrangler deploy\`, then prints the webhook URL and what to do next

GitHub (one of):
  --github-token <token>              a personal access token (or the GITHUB_TOKEN environment variable)
  --github-app-id <id>                a GitHub App's ID or client ID, with
  --github-app-key <file.pem>         the path of the App's private key (read here, line breaks kept)
  --github-app-installation-id <id>   the installation to act as when a delivery names none (repository webhooks)

Modal (one of):
  --modal-token-id <ak-...>           a Modal API token (or MODAL_TOKEN_ID and MODAL_TOKEN_SECRET)
  --modal-token-secret <as-...>
  --launcher-url <url>                launcher mode: the launcher's endpoint (or MODAL_LAUNCHER_URL), with
  --modal-proxy-token-id <wk-...>     a proxy-auth token (or MODAL_PROXY_TOKEN_ID and MODAL_PROXY_TOKEN_SECRET)
  --modal-proxy-token-secret <ws-...>
  --launcher-secret <secret>          and the launcher's HMAC key (or LAUNCHER_SECRET)

Webhook secret:
  (default)                           generate one only when the Worker has no WEBHOOK_SECRET yet
  --keep-webhook-secret               never generate one
  --rotate-webhook-secret             generate a new one even if one is stored (then change it on GitHub too)
  --secret-file <path>                where a generated secret is written, mode 0600 (default: .webhook-secret)
  --print-secret                      print a generated secret once instead (and write it too, with --secret-file)

Other:
  --account-id <id>                   the Cloudflare account, when your login has several (or CLOUDFLARE_ACCOUNT_ID)
  --dry-run                           print each step and wrangler command, secret values shown by name; change nothing
  -h, --help                          print this help

Cloudflare never shows a stored secret again, so a generated webhook secret must be saved by this run. By
default it goes to a file only you can read, not to the terminal, where scrollback and CI logs would keep it:
paste it into GitHub's webhook form, then delete the file. Secrets given as options stay in your shell's
history: prefer the environment variables.`;

export { UsageError } from "../cli.ts";

export interface SecretInput {
  name: string;
  value: string;
  /** Where the value came from, for the plan and the log: `--github-token`, `$GITHUB_TOKEN`, `file key.pem`. */
  source: string;
}

export type WebhookSecretPolicy = "generate-if-missing" | "keep" | "rotate";

export interface SetupOptions {
  dryRun: boolean;
  webhookSecret: WebhookSecretPolicy;
  printSecret: boolean;
  /** Absolute path a generated webhook secret is written to; undefined with --print-secret alone. */
  secretFile: string | undefined;
  accountId: string | undefined;
  /** The secrets given on the command line or in the environment, in the order they are stored. */
  secrets: SecretInput[];
  /** Things worth telling the operator about how the options were read. */
  notes: string[];
}

export const DEFAULT_SECRET_FILE = ".webhook-secret";

export function parseSetupOptions(args: string[], env: NodeJS.ProcessEnv = process.env): SetupOptions {
  const values = parseCommandLine(
    {
      "dry-run": { type: "boolean", default: false },
      "keep-webhook-secret": { type: "boolean", default: false },
      "rotate-webhook-secret": { type: "boolean", default: false },
      "print-secret": { type: "boolean", default: false },
      "secret-file": { type: "string" },
      "account-id": { type: "string" },
      "github-token": { type: "string" },
      "github-app-id": { type: "string" },
      "github-app-key": { type: "string" },
      "github-app-installation-id": { type: "string" },
      "modal-token-id": { type: "string" },
      "modal-token-secret": { type: "string" },
      "launcher-url": { type: "string" },
      "modal-proxy-token-id": { type: "string" },
      "modal-proxy-token-secret": { type: "string" },
      "launcher-secret": { type: "string" },
    },
    USAGE,
    args,
  );
  if (values["keep-webhook-secret"] && values["rotate-webhook-secret"])
    throw new UsageError("--keep-webhook-secret and --rotate-webhook-secret contradict each other");
  const notes: string[] = [];
  // Empty strings count as unset, as they do for the Worker's own configuration.
  const given = (value: string | undefined) =>
    value === undefined || value.trim() === "" ? undefined : value;
  const flag = (name: keyof typeof values) => {
    const value = values[name];
    return typeof value === "string" ? given(value) : undefined;
  };
  const fromFlagOrEnv = (option: keyof typeof values, variable: string, name = variable) => {
    const value = flag(option);
    if (value !== undefined) return { name, value, source: `--${option}` };
    const fromEnv = given(env[variable]);
    return fromEnv === undefined ? undefined : { name, value: fromEnv, source: `$${variable}` };
  };

  const secretFile = flag("secret-file") ?? (values["print-secret"] ? undefined : DEFAULT_SECRET_FILE);
  return {
    dryRun: values["dry-run"],
    webhookSecret: values["rotate-webhook-secret"]
      ? "rotate"
      : values["keep-webhook-secret"]
        ? "keep"
        : "generate-if-missing",
    printSecret: values["print-secret"],
    secretFile: secretFile === undefined ? undefined : resolve(secretFile),
    accountId: flag("account-id") ?? given(env.CLOUDFLARE_ACCOUNT_ID),
    secrets: [...githubSecrets(), ...modalSecrets()],
    notes,
  };

  function githubSecrets(): SecretInput[] {
    const appId = flag("github-app-id");
    const keyPath = flag("github-app-key");
    const installationId = flag("github-app-installation-id");
    if (appId === undefined && keyPath === undefined) {
      if (installationId !== undefined)
        throw new UsageError("--github-app-installation-id needs --github-app-id");
      const token = fromFlagOrEnv("github-token", "GITHUB_TOKEN");
      return token === undefined ? [] : [token];
    }
    if (flag("github-token") !== undefined)
      throw new UsageError(
        "give --github-token or a GitHub App (--github-app-id, --github-app-key), not both",
      );
    if (appId === undefined) throw new UsageError("--github-app-key needs --github-app-id");
    if (keyPath === undefined) throw new UsageError("--github-app-id needs --github-app-key <file.pem>");
    if (given(env.GITHUB_TOKEN) !== undefined)
      notes.push("GITHUB_TOKEN in the environment is not stored: a GitHub App is given");
    const secrets: SecretInput[] = [
      { name: "GITHUB_APP_ID", value: appId, source: "--github-app-id" },
      { name: "GITHUB_APP_PRIVATE_KEY", value: readPrivateKey(keyPath), source: `file ${keyPath}` },
    ];
    if (installationId !== undefined)
      secrets.push({
        name: "GITHUB_APP_INSTALLATION_ID",
        value: installationId,
        source: "--github-app-installation-id",
      });
    return secrets;
  }

  function modalSecrets(): SecretInput[] {
    const launcherUrl = fromFlagOrEnv("launcher-url", "MODAL_LAUNCHER_URL");
    const launcherFlags = ["modal-proxy-token-id", "modal-proxy-token-secret", "launcher-secret"] as const;
    const directFlags = ["modal-token-id", "modal-token-secret"] as const;
    if (launcherUrl === undefined) {
      const stray = launcherFlags.find((option) => flag(option) !== undefined);
      if (stray !== undefined)
        throw new UsageError(`--${stray} is for launcher mode: it needs --launcher-url`);
      return pair([
        fromFlagOrEnv("modal-token-id", "MODAL_TOKEN_ID"),
        fromFlagOrEnv("modal-token-secret", "MODAL_TOKEN_SECRET"),
      ]);
    }
    const direct = directFlags.find((option) => flag(option) !== undefined);
    if (direct !== undefined)
      throw new UsageError(
        `--${direct} is for direct mode; with --launcher-url the launcher holds Modal's token`,
      );
    const companions = [
      fromFlagOrEnv("modal-proxy-token-id", "MODAL_PROXY_TOKEN_ID"),
      fromFlagOrEnv("modal-proxy-token-secret", "MODAL_PROXY_TOKEN_SECRET"),
      fromFlagOrEnv("launcher-secret", "LAUNCHER_SECRET"),
    ];
    const missing = ["--modal-proxy-token-id", "--modal-proxy-token-secret", "--launcher-secret"].filter(
      (_, index) => companions[index] === undefined,
    );
    if (missing.length > 0) throw new UsageError(`launcher mode also needs ${missing.join(", ")}`);
    return [launcherUrl, ...companions.filter((secret) => secret !== undefined)];
  }
}

/** Both halves of a token, or neither. */
function pair([id, secret]: [SecretInput | undefined, SecretInput | undefined]): SecretInput[] {
  if (id === undefined && secret === undefined) return [];
  if (id === undefined)
    throw new UsageError(`--modal-token-id (or MODAL_TOKEN_ID) is needed with ${secret?.source}`);
  if (secret === undefined)
    throw new UsageError(`--modal-token-secret (or MODAL_TOKEN_SECRET) is needed with ${id.source}`);
  return [id, secret];
}

/**
 * The App's key exactly as the file holds it. Typed or pasted into `wrangler secret put`, a multi-line PEM is cut
 * at its first line break; inside a JSON string its line breaks travel as `\n` and arrive intact.
 */
function readPrivateKey(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `--github-app-key: cannot read ${path} (${error instanceof Error ? error.message : error})`,
    );
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----/.test(text))
    throw new UsageError(
      `--github-app-key: ${path} is not a PEM private key (-----BEGIN RSA PRIVATE KEY-----)`,
    );
  return text;
}
