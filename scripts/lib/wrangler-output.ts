/**
 * Reading what wrangler 4.86 prints. Where wrangler offers JSON (`whoami --json`, `secret list --format json`)
 * we read JSON; `queues list` and `deploy` print only for people, so their text is parsed here, in one place,
 * against the formats in wrangler's source (a cli-table3 table; the "Deployed <name> triggers" block).
 */
import * as z from "zod/mini";

/** wrangler formats errors with esbuild, in colour even when not on a terminal. */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}

/** The outermost JSON value in `text` that starts with `open`, ignoring any line printed around it. */
function jsonIn(text: string, open: "{" | "["): unknown {
  const close = open === "{" ? "}" : "]";
  const start = text.indexOf(open);
  const end = text.lastIndexOf(close);
  if (start === -1 || end < start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

const WhoamiSchema = z.object({
  loggedIn: z.boolean(),
  email: z.optional(z.string()),
  authType: z.optional(z.string()),
  accounts: z.optional(z.array(z.object({ id: z.string(), name: z.string() }))),
});

export interface Whoami {
  loggedIn: boolean;
  email: string | undefined;
  authType: string | undefined;
  accounts: { id: string; name: string }[];
}

/** `wrangler whoami --json`: `{"loggedIn":false}` (and exit 1) when not logged in. */
export function parseWhoami(stdout: string): Whoami | undefined {
  const parsed = WhoamiSchema.safeParse(jsonIn(stripAnsi(stdout), "{"));
  if (!parsed.success) return undefined;
  const { loggedIn, email, authType, accounts = [] } = parsed.data;
  return { loggedIn, email, authType, accounts };
}

/**
 * `wrangler queues list`: a cli-table3 table with the columns id, name, created_on, modified_on, producers,
 * consumers (an empty page prints an empty line). Returns the `name` column.
 */
export function parseQueueNames(stdout: string): string[] {
  const rows = stripAnsi(stdout)
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("│") && line.endsWith("│"))
    .map((line) =>
      line
        .slice(1, -1)
        .split("│")
        .map((cell) => cell.trim()),
    );
  const [header, ...body] = rows;
  const column = header?.indexOf("name") ?? -1;
  if (column === -1) return [];
  return body.map((row) => row[column] ?? "").filter((name) => name !== "");
}

const SecretListSchema = z.array(z.object({ name: z.string() }));

/** `wrangler secret list --format json`: `[{ "name": …, "type": "secret_text" }, …]`. */
export function parseSecretNames(stdout: string): string[] | undefined {
  const parsed = SecretListSchema.safeParse(jsonIn(stripAnsi(stdout), "["));
  return parsed.success ? parsed.data.map((secret) => secret.name) : undefined;
}

/** `wrangler secret list` before the first deploy: `Worker "<name>" not found. If this is a new Worker, …`. */
export function isWorkerNotFound(output: string): boolean {
  const text = stripAnsi(output);
  return /Worker "[^"]+".* not found/.test(text) && text.includes("If this is a new Worker");
}

/** `wrangler secret bulk` ends with `✨ <n> secrets successfully uploaded` (it exits 0 on empty input too). */
export function parseUploadedSecretCount(stdout: string): number | undefined {
  const match = stripAnsi(stdout).match(/(\d+) secrets? successfully uploaded/);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * `wrangler deploy` lists what it deployed under `Deployed <name> triggers (…)`, one per line, indented:
 * `https://<name>.<subdomain>.workers.dev`, route patterns (`example.com/*`, `… (zone name: …)`), custom domains
 * (`ci.example.com (custom domain)`), `schedule: …`, `Producer for …`, `Consumer for …`.
 */
export function parseDeployTargets(stdout: string): string[] {
  const lines = stripAnsi(stdout).split("\n");
  const start = lines.findIndex((line) => /^Deployed .+ triggers/.test(line));
  if (start === -1) return [];
  const targets: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^\s+\S/.test(line)) break;
    targets.push(line.trim());
  }
  return targets;
}

export interface WorkerUrl {
  url: string;
  /** Where it came from, for the operator: "workers.dev", "custom domain" or "route". */
  kind: string;
}

/**
 * The base URL the webhook can be reached at, from the deploy targets. workers.dev first: it always serves the
 * whole Worker. A custom domain does too. A route serves `/webhook` only when it covers the host's root
 * (`host/*`); a route on a path or a wildcard host gives no URL to print.
 */
export function workerUrlFromTargets(targets: readonly string[]): WorkerUrl | undefined {
  const workersDev = targets.find((target) => /^https:\/\/[^\s/]+\.workers\.dev$/.test(target));
  if (workersDev !== undefined) return { url: workersDev, kind: "workers.dev" };
  for (const target of targets) {
    const domain = target.match(/^([a-z0-9.-]+) \(custom domain\b/i);
    if (domain?.[1] !== undefined) return { url: `https://${domain[1]}`, kind: "custom domain" };
  }
  for (const target of targets) {
    const route = target.match(/^(?:https?:\/\/)?([a-z0-9.-]+)\/\*(?: \(.*\))?$/i);
    if (route?.[1] !== undefined) return { url: `https://${route[1]}`, kind: "route" };
  }
  return undefined;
}
