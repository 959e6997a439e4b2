/**
 * `npm run setup:github-app`'s command line: the usage, and each option checked (zod) and turned into what the
 * run needs. Nothing here talks to GitHub or Cloudflare.
 */
import * as z from "zod/mini";
import { parseCommandLine, UsageError } from "../cli.ts";
import { GITHUB_COM, type GitHubHost, resolveGitHubHost } from "./github-host.ts";
import { defaultAppName, MAX_APP_NAME_LENGTH, type RunnerScope } from "./manifest.ts";

export const DEFAULT_TIMEOUT_SECONDS = 600;

export const USAGE = `Usage: npm run setup:github-app -- --worker-url https://<worker> [options]

Creates a GitHub App for this Worker with GitHub's App manifest flow and stores its credentials in the Worker,
without showing or writing them anywhere:

  1. checks that wrangler is logged in to Cloudflare (if not: npx wrangler login)
  2. serves a page on 127.0.0.1 and opens it in your browser; the page posts the App's manifest to GitHub
     (webhook <worker-url>/webhook, the workflow_job event, the permissions below) and you confirm on GitHub
  3. GitHub sends the browser back to 127.0.0.1 with a one-time code (its state must match this run's)
  4. the code is exchanged for the App's ID, private key and webhook secret (POST /app-manifests/{code}/conversions)
  5. stores GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and WEBHOOK_SECRET (and GITHUB_API_URL off github.com,
     RUNNER_SCOPE=org for organization runners) with one \`wrangler secret bulk\` call, JSON on stdin
  6. prints the App's installation URL and what to do next

Options:
  --worker-url <url>          the Worker's URL, as \`npm run setup\` printed it (required)
  --org <org>                 create the App in this organization (you must be one of its owners);
                              otherwise on your own account
  --runner-scope repo|org     repo (default): repository runners, the App asks for "Administration: read & write";
                              org: organization runners, it asks for "Self-hosted runners: read & write" on the
                              organization instead (needs --org). Both ask for "Actions: read" and "Metadata: read".
  --name <name>               the App's name, at most ${MAX_APP_NAME_LENGTH} characters and unique on GitHub
                              (default: actions-on-modal-<6 random hex digits>; GitHub lets you change it)
  --github-url <url>          GitHub Enterprise Server: its web address, e.g. https://github.example.com (the API
                              is <url>/api/v3); GHE.com: https://<subdomain>.ghe.com (default: ${GITHUB_COM})
  --port <port>               the loopback page's port (default: any free one). Fix it to forward it over SSH
                              when the browser runs on another machine: ssh -L <port>:127.0.0.1:<port> …
  --no-open                   print the page's URL instead of opening a browser
  --timeout <seconds>         give up when GitHub has not sent the browser back by then (default ${DEFAULT_TIMEOUT_SECONDS})
  --account-id <id>           the Cloudflare account, when your login has several (or CLOUDFLARE_ACCOUNT_ID)
  --dry-run                   print the manifest and the steps; start, post and store nothing
  -h, --help                  print this help

The App is private: it can be installed only on the account that owns it. Ctrl-C stops the page; nothing is
stored until GitHub's answer has been read.`;

export interface GitHubAppOptions {
  /** The Worker's base URL, without a trailing slash; the webhook is `<workerUrl>/webhook`. */
  workerUrl: string;
  github: GitHubHost;
  org: string | undefined;
  name: string;
  runnerScope: RunnerScope;
  /** 0: any free port. */
  port: number;
  open: boolean;
  timeoutSeconds: number;
  dryRun: boolean;
  accountId: string | undefined;
  /** Things worth telling the operator about how the options were read. */
  notes: string[];
}

const isWebUrl = (value: string) => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === "https:" || url.protocol === "http:") &&
    url.search === "" &&
    url.hash === "" &&
    url.username === "" &&
    url.password === ""
  );
};
const isLoopback = (value: string) => ["127.0.0.1", "localhost", "[::1]"].includes(new URL(value).hostname);

const WebUrlSchema = z
  .string()
  .check(
    z.refine(isWebUrl, { error: "must be an absolute http(s) URL without query, fragment or credentials" }),
  );
// GitHub delivers to http URLs too, but then anyone on the way reads every job of every repository.
const WorkerUrlSchema = WebUrlSchema.check(
  z.refine((value) => !isWebUrl(value) || new URL(value).protocol === "https:" || isLoopback(value), {
    error: "must be an https URL (http only on loopback)",
  }),
);
// GitHub logins: letters, digits and single hyphens inside, at most 39 characters.
const OrgSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$/, { error: "is not a GitHub organization name" }));
const NameSchema = z.pipe(
  z.string(),
  z.pipe(
    z.transform((value: string) => value.trim()),
    z
      .string()
      .check(
        z.minLength(1, { error: "must not be empty" }),
        z.maxLength(MAX_APP_NAME_LENGTH, { error: `is at most ${MAX_APP_NAME_LENGTH} characters on GitHub` }),
        z.regex(/^[^\p{Cc}]*$/u, { error: "must not contain control characters" }),
      ),
  ),
);
const RunnerScopeSchema = z.enum(["repo", "org"], { error: "is repo or org" });
const wholeNumber = (min: number, max: number) =>
  z.pipe(
    z.string().check(z.regex(/^\d{1,6}$/, { error: `must be a whole number from ${min} to ${max}` })),
    z.pipe(
      z.transform(Number),
      z
        .int()
        .check(
          z.minimum(min, { error: `must be a whole number from ${min} to ${max}` }),
          z.maximum(max, { error: `must be a whole number from ${min} to ${max}` }),
        ),
    ),
  );
const PortSchema = wholeNumber(0, 65535);
const TimeoutSchema = wholeNumber(1, 3600);

/** `value` checked by `schema`, or a usage error that names the option and the rule it broke. */
function checked<T>(schema: z.ZodMiniType<T>, option: string, value: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new UsageError(`--${option} ${result.error.issues[0]?.message ?? "is not valid"}`);
}

export function parseGitHubAppOptions(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): GitHubAppOptions {
  const values = parseCommandLine(
    {
      "worker-url": { type: "string" },
      org: { type: "string" },
      "runner-scope": { type: "string" },
      name: { type: "string" },
      "github-url": { type: "string" },
      port: { type: "string" },
      "no-open": { type: "boolean", default: false },
      timeout: { type: "string" },
      "account-id": { type: "string" },
      "dry-run": { type: "boolean", default: false },
    },
    USAGE,
    args,
  );
  const notes: string[] = [];
  const given = (value: string | undefined) =>
    value === undefined || value.trim() === "" ? undefined : value.trim();

  const rawWorkerUrl = given(values["worker-url"]);
  if (rawWorkerUrl === undefined)
    throw new UsageError(
      "--worker-url <https://…> is required: the Worker's URL, as `npm run setup` printed it (the App's webhook is <url>/webhook)",
    );
  const workerUrl = workerBase(checked(WorkerUrlSchema, "worker-url", rawWorkerUrl), notes);

  const githubUrl = given(values["github-url"]);
  const resolved = resolveGitHubHost(
    githubUrl === undefined ? GITHUB_COM : checked(WebUrlSchema, "github-url", githubUrl),
  );
  if (resolved.note !== undefined) notes.push(resolved.note);

  const orgValue = given(values.org);
  const org = orgValue === undefined ? undefined : checked(OrgSchema, "org", orgValue);
  const scopeValue = given(values["runner-scope"]);
  const runnerScope =
    scopeValue === undefined ? "repo" : checked(RunnerScopeSchema, "runner-scope", scopeValue);
  if (runnerScope === "org" && org === undefined)
    throw new UsageError(
      "--runner-scope org needs --org <org>: a private App can be installed only on the account that owns it, so the organization must own it",
    );

  const nameValue = values.name;
  const portValue = given(values.port);
  const timeoutValue = given(values.timeout);
  return {
    workerUrl,
    github: resolved.host,
    org,
    name: nameValue === undefined ? defaultAppName() : checked(NameSchema, "name", nameValue),
    runnerScope,
    port: portValue === undefined ? 0 : checked(PortSchema, "port", portValue),
    open: !values["no-open"],
    timeoutSeconds:
      timeoutValue === undefined ? DEFAULT_TIMEOUT_SECONDS : checked(TimeoutSchema, "timeout", timeoutValue),
    dryRun: values["dry-run"],
    accountId: given(values["account-id"]) ?? given(env.CLOUDFLARE_ACCOUNT_ID),
    notes,
  };
}

/** The base URL the Worker's routes hang from. A webhook URL given instead loses its `/webhook`, with a note. */
function workerBase(url: string, notes: string[]): string {
  const base = url.replace(/\/+$/, "");
  if (base.endsWith("/webhook")) {
    const trimmed = base.slice(0, -"/webhook".length);
    notes.push(`--worker-url is the Worker's URL: using ${trimmed} (the webhook is ${base})`);
    return trimmed;
  }
  return base;
}
