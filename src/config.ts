/**
 * The one place that knows variable names and defaults. Each variable is parsed on its own so that every problem
 * is reported at once, by name, and never with its value. Empty strings count as unset: the dashboard and
 * `.dev.vars` both produce them.
 *
 * The configuration is split in two sections that fail independently: without a valid intake section the webhook
 * answers 500; without a valid dispatch section (GitHub auth, Modal credentials) the webhook still accepts and
 * queues jobs, and the consumer leaves them on the queue until an operator fixes the variables.
 */
import * as z from "zod/mini";

export interface ConfigProblem {
  variable: string;
  message: string;
}

export type Section<T> = { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };

export interface RepoPattern {
  owner: string;
  /** `*` matches every repository of the owner. */
  repo: string;
}

export interface IntakeConfig {
  /** The current secret first, then the previous one during a rotation. */
  webhookSecrets: string[];
  maxBodyBytes: number;
  requiredLabels: string[];
  /** Empty means every repository. */
  allowedRepos: RepoPattern[];
  allowPublicRepos: boolean;
}

export type GitHubAuthConfig =
  | { kind: "token"; token: string }
  | { kind: "app"; appId: string; privateKey: string; installationId: number | undefined };

export interface GitHubConfig {
  apiUrl: string;
  auth: GitHubAuthConfig;
  runnerScope: "repo" | "org";
  runnerGroupId: number;
  /** `latest`, or an explicit version such as `2.330.0`. */
  runnerVersion: string;
}

export type ModalConfig =
  | {
      mode: "direct";
      serverUrl: string;
      tokenId: string;
      tokenSecret: string;
      appName: string;
      environment: string | undefined;
    }
  | {
      mode: "launcher";
      launcherUrl: string;
      proxyTokenId: string;
      proxyTokenSecret: string;
      launcherSecret: string;
      appName: string;
      environment: string | undefined;
    };

export interface RunnerConfig {
  /** Explicit image; when unset, the official runner image for the runner version is used. */
  image: string | undefined;
  cpu: number;
  memoryMiB: number;
  timeoutSeconds: number;
  gpu: string | undefined;
  /** Live runners allowed per repository owner; 0 means no cap. */
  maxPerOwner: number;
}

/** What the reconciler holds each job and runner to (see README, "Lifecycle guarantees"). */
export interface LifecycleConfig {
  /** A dispatched job GitHub still reports queued this long after its sandbox was requested is looked at. */
  stuckJobSeconds: number;
  /** Runners started for one job, re-dispatches included. */
  maxDispatchAttempts: number;
  /** How long a useless runner or sandbox may live before it is removed (when nothing told us sooner). */
  orphanGraceSeconds: number;
  /** The most of a credential's hourly GitHub budget the reconciler may spend, in percent. */
  reconcileBudgetPercent: number;
  /** Look for webhook deliveries that never reached us, and queued jobs of allowlisted repositories. */
  recoverLostDeliveries: boolean;
  /** Finished jobs are kept this long, then folded into daily aggregates. */
  retentionDays: number;
}

/** JIT registrations per credential go through a token bucket (GitHub's secondary limits). */
export interface PacingConfig {
  jitPerHour: number;
  jitBurst: number;
}

export interface DispatchConfig {
  github: GitHubConfig;
  modal: ModalConfig;
  runner: RunnerConfig;
  lifecycle: LifecycleConfig;
  pacing: PacingConfig;
  /** DISPATCH_PAUSED: new runners wait in the ledger. */
  paused: boolean;
}

export interface Config {
  intake: Section<IntakeConfig>;
  dispatch: Section<DispatchConfig>;
  /** Every problem of every section, for `/healthz` and the log. */
  problems: ConfigProblem[];
}

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
export const DEFAULT_MODAL_SERVER_URL = "https://api.modal.com";
export const DEFAULT_REQUIRED_LABELS = ["self-hosted", "modal"];

// ---------------------------------------------------------------------------------------------------------------
// Variable parsers. Every message is ours and names a rule, never a value.

const unset = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);

/** A string variable, trimmed; empty counts as unset. */
const text = (message: string) =>
  z.pipe(
    z.transform(unset),
    z.optional(
      z.pipe(
        z.string({ error: message }),
        z.transform((value) => value.trim()),
      ),
    ),
  );

const required = (message = "is required") =>
  z.pipe(
    z.transform(unset),
    z.pipe(
      z.string({ error: message }),
      z.transform((value) => value.trim()),
    ),
  );

const integer = (fallback: number, min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return fallback;
      }
      return parsed;
    }),
  );
};

const decimal = (fallback: number, min: number, max: number) => {
  const message = `must be a number from ${min} to ${max}`;
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      const parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
      if (!(parsed >= min && parsed <= max)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return fallback;
      }
      return parsed;
    }),
  );
};

const flag = (fallback: boolean) => {
  const message = "must be true or false";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      const lower = value.toLowerCase();
      if (lower === "true" || lower === "1") return true;
      if (lower === "false" || lower === "0") return false;
      ctx.issues.push({ code: "custom", message, input: undefined });
      return fallback;
    }),
  );
};

const httpsUrl = (message: string) =>
  z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return undefined;
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return undefined;
      }
      return value.replace(/\/+$/, "");
    }),
  );

const LABEL = /^[^,\s][^,]*$/;
const labelList = () => {
  const message = "must be a comma-separated list of runner labels";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return DEFAULT_REQUIRED_LABELS;
      const labels = value
        .split(",")
        .map((label) => label.trim())
        .filter((label) => label !== "");
      if (labels.length === 0 || labels.some((label) => !LABEL.test(label))) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return DEFAULT_REQUIRED_LABELS;
      }
      return labels;
    }),
  );
};

// GitHub's rules: owners are alphanumerics and single hyphens; repositories also allow `.` and `_`.
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^(?:[A-Za-z0-9._-]{1,100}|\*)$/;
const repoPatterns = () => {
  const message = "must be a comma-separated list of owner/repo or owner/* entries";
  return z.pipe(
    text(message),
    z.transform((value, ctx): RepoPattern[] => {
      if (value === undefined) return [];
      const patterns: RepoPattern[] = [];
      for (const entry of value.split(",")) {
        const trimmed = entry.trim();
        if (trimmed === "") continue;
        const [owner = "", repo = "", extra] = trimmed.split("/");
        if (extra !== undefined || !OWNER.test(owner) || !REPO.test(repo)) {
          ctx.issues.push({ code: "custom", message, input: undefined });
          return [];
        }
        patterns.push({ owner, repo });
      }
      return patterns;
    }),
  );
};

const RUNNER_VERSION = /^v?\d+\.\d+\.\d+$/;
const runnerVersion = () => {
  const message = "must be latest or a runner version such as 2.330.0";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined || value.toLowerCase() === "latest") return "latest";
      if (!RUNNER_VERSION.test(value)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return "latest";
      }
      return value.replace(/^v/, "");
    }),
  );
};

const hostname = () => {
  const message = "must be a host name such as github.example.com";
  return z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return undefined;
      const host = value.replace(/^https?:\/\//, "").replace(/\/+$/, "");
      if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return undefined;
      }
      return host;
    }),
  );
};

const ENV_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const APP_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const pattern = (regex: RegExp, message: string, fallback?: string) =>
  z.pipe(
    text(message),
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      if (!regex.test(value)) {
        ctx.issues.push({ code: "custom", message, input: undefined });
        return fallback;
      }
      return value;
    }),
  );

// ---------------------------------------------------------------------------------------------------------------
// Sections

const IntakeEnvSchema = z.object({
  WEBHOOK_SECRET: required(),
  WEBHOOK_SECRET_PREVIOUS: text("must be a string"),
  WEBHOOK_MAX_BODY_BYTES: integer(1024 * 1024, 1024, 25 * 1024 * 1024),
  REQUIRED_LABELS: labelList(),
  ALLOWED_REPOS: repoPatterns(),
  ALLOW_PUBLIC_REPOS: flag(false),
});

const DispatchEnvSchema = z.object({
  GITHUB_TOKEN: text("must be a string"),
  // The numeric App ID, or the App's client ID (`Iv…`), which GitHub now recommends as the JWT issuer.
  GITHUB_APP_ID: pattern(/^(\d+|Iv[A-Za-z0-9.]+)$/, "must be the App ID or its client ID"),
  GITHUB_APP_PRIVATE_KEY: pattern(
    /-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----/,
    "must be a PEM private key (PKCS#1 or PKCS#8)",
  ),
  GITHUB_APP_INSTALLATION_ID: integer(0, 0, Number.MAX_SAFE_INTEGER),
  GITHUB_ENTERPRISE_DOMAIN: hostname(),
  GITHUB_API_URL: httpsUrl("must be an http(s) URL"),
  RUNNER_SCOPE: pattern(/^(repo|org)$/, "must be repo or org", "repo"),
  RUNNER_GROUP_ID: integer(1, 1, Number.MAX_SAFE_INTEGER),
  RUNNER_VERSION: runnerVersion(),
  RUNNER_IMAGE: pattern(/^[a-z0-9][a-z0-9._\-/:@]*$/i, "must be a container image reference"),
  MODAL_TOKEN_ID: text("must be a string"),
  MODAL_TOKEN_SECRET: text("must be a string"),
  MODAL_SERVER_URL: httpsUrl("must be an http(s) URL"),
  MODAL_APP_NAME: pattern(APP_NAME, "must be 1-64 letters, digits, '.', '_' or '-'", "actions-on-modal"),
  MODAL_ENVIRONMENT: pattern(ENV_NAME, "must be a Modal environment name"),
  MODAL_LAUNCHER_URL: httpsUrl("must be an http(s) URL"),
  MODAL_PROXY_TOKEN_ID: text("must be a string"),
  MODAL_PROXY_TOKEN_SECRET: text("must be a string"),
  LAUNCHER_SECRET: text("must be a string"),
  SANDBOX_CPU: decimal(2, 0.125, 64),
  SANDBOX_MEMORY_MB: integer(4096, 128, 512 * 1024),
  // Modal's maximum sandbox lifetime is 24 hours.
  SANDBOX_TIMEOUT_SECONDS: integer(3600, 60, 24 * 60 * 60),
  SANDBOX_GPU: pattern(/^[A-Za-z0-9-]+(:\d+)?$/, "must be a Modal GPU type such as A10G or H100:2"),
  MAX_RUNNERS_PER_OWNER: integer(50, 0, 100_000),
  STUCK_JOB_SECONDS: integer(180, 30, 24 * 60 * 60),
  MAX_DISPATCH_ATTEMPTS: integer(3, 1, 20),
  ORPHAN_GRACE_SECONDS: integer(600, 60, 24 * 60 * 60),
  RECONCILE_BUDGET_PERCENT: integer(10, 1, 100),
  RECOVER_LOST_DELIVERIES: flag(true),
  LEDGER_RETENTION_DAYS: integer(14, 1, 365),
  // GitHub documents at most 80 content-creating requests a minute and 500 an hour, without saying whether a JIT
  // registration is one. 420/h with a burst of 60 stays under both: at most 67 in any minute, 480 in any hour.
  JIT_RATE_PER_HOUR: integer(420, 1, 1_000_000),
  JIT_BURST: integer(60, 1, 10_000),
  DISPATCH_PAUSED: flag(false),
});

function problemsOf(error: z.core.$ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const variable = String(issue.path[0] ?? "configuration");
    // Our own messages name a rule; zod's fallback messages describe types. Neither carries the value.
    if (!problems.some((problem) => problem.variable === variable)) {
      problems.push({ variable, message: issue.message });
    }
  }
  return problems;
}

function intakeSection(env: Env): Section<IntakeConfig> {
  const parsed = IntakeEnvSchema.safeParse(env);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
  const vars = parsed.data;
  const webhookSecrets = [vars.WEBHOOK_SECRET];
  if (vars.WEBHOOK_SECRET_PREVIOUS !== undefined) webhookSecrets.push(vars.WEBHOOK_SECRET_PREVIOUS);
  return {
    ok: true,
    value: {
      webhookSecrets,
      maxBodyBytes: vars.WEBHOOK_MAX_BODY_BYTES,
      requiredLabels: vars.REQUIRED_LABELS,
      allowedRepos: vars.ALLOWED_REPOS,
      allowPublicRepos: vars.ALLOW_PUBLIC_REPOS,
    },
  };
}

/** Rules between variables. They look only at which variables are set, so they run even when a value is bad. */
function companionProblems(env: Env): ConfigProblem[] {
  const set = (name: keyof Env) => {
    const value: unknown = env[name];
    return typeof value === "string" && value.trim() !== "";
  };
  const problems: ConfigProblem[] = [];
  if (set("GITHUB_APP_ID") || set("GITHUB_APP_PRIVATE_KEY")) {
    if (!set("GITHUB_APP_ID"))
      problems.push({ variable: "GITHUB_APP_ID", message: "is required with GITHUB_APP_PRIVATE_KEY" });
    if (!set("GITHUB_APP_PRIVATE_KEY"))
      problems.push({ variable: "GITHUB_APP_PRIVATE_KEY", message: "is required with GITHUB_APP_ID" });
  } else if (!set("GITHUB_TOKEN")) {
    problems.push({
      variable: "GITHUB_TOKEN",
      message: "is required (or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY)",
    });
  }
  const companions = set("MODAL_LAUNCHER_URL")
    ? (["MODAL_PROXY_TOKEN_ID", "MODAL_PROXY_TOKEN_SECRET", "LAUNCHER_SECRET"] as const)
    : (["MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"] as const);
  const reason = set("MODAL_LAUNCHER_URL") ? "is required with MODAL_LAUNCHER_URL" : "is required";
  for (const variable of companions) if (!set(variable)) problems.push({ variable, message: reason });
  return problems;
}

/** Narrows a value the companion rules have already proven present. */
function present<T>(value: T | undefined, variable: string): T {
  if (value === undefined) throw new Error(`${variable} was checked but is missing`);
  return value;
}

function dispatchSection(env: Env): Section<DispatchConfig> {
  const parsed = DispatchEnvSchema.safeParse(env);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  for (const problem of companionProblems(env)) {
    if (!problems.some((known) => known.variable === problem.variable)) problems.push(problem);
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const vars = parsed.data;

  const auth: GitHubAuthConfig =
    vars.GITHUB_APP_ID !== undefined
      ? {
          kind: "app",
          appId: vars.GITHUB_APP_ID,
          privateKey: present(vars.GITHUB_APP_PRIVATE_KEY, "GITHUB_APP_PRIVATE_KEY"),
          installationId: vars.GITHUB_APP_INSTALLATION_ID === 0 ? undefined : vars.GITHUB_APP_INSTALLATION_ID,
        }
      : { kind: "token", token: present(vars.GITHUB_TOKEN, "GITHUB_TOKEN") };

  const apiUrl =
    vars.GITHUB_API_URL ??
    (vars.GITHUB_ENTERPRISE_DOMAIN === undefined
      ? DEFAULT_GITHUB_API_URL
      : `https://${vars.GITHUB_ENTERPRISE_DOMAIN}/api/v3`);

  const appName = vars.MODAL_APP_NAME ?? "actions-on-modal";
  const modal: ModalConfig =
    vars.MODAL_LAUNCHER_URL !== undefined
      ? {
          mode: "launcher",
          launcherUrl: vars.MODAL_LAUNCHER_URL,
          proxyTokenId: present(vars.MODAL_PROXY_TOKEN_ID, "MODAL_PROXY_TOKEN_ID"),
          proxyTokenSecret: present(vars.MODAL_PROXY_TOKEN_SECRET, "MODAL_PROXY_TOKEN_SECRET"),
          launcherSecret: present(vars.LAUNCHER_SECRET, "LAUNCHER_SECRET"),
          appName,
          environment: vars.MODAL_ENVIRONMENT,
        }
      : {
          mode: "direct",
          serverUrl: vars.MODAL_SERVER_URL ?? DEFAULT_MODAL_SERVER_URL,
          tokenId: present(vars.MODAL_TOKEN_ID, "MODAL_TOKEN_ID"),
          tokenSecret: present(vars.MODAL_TOKEN_SECRET, "MODAL_TOKEN_SECRET"),
          appName,
          environment: vars.MODAL_ENVIRONMENT,
        };

  return {
    ok: true,
    value: {
      github: {
        apiUrl,
        auth,
        runnerScope: vars.RUNNER_SCOPE === "org" ? "org" : "repo",
        runnerGroupId: vars.RUNNER_GROUP_ID,
        runnerVersion: vars.RUNNER_VERSION,
      },
      modal,
      runner: {
        image: vars.RUNNER_IMAGE,
        cpu: vars.SANDBOX_CPU,
        memoryMiB: vars.SANDBOX_MEMORY_MB,
        timeoutSeconds: vars.SANDBOX_TIMEOUT_SECONDS,
        gpu: vars.SANDBOX_GPU,
        maxPerOwner: vars.MAX_RUNNERS_PER_OWNER,
      },
      lifecycle: {
        stuckJobSeconds: vars.STUCK_JOB_SECONDS,
        maxDispatchAttempts: vars.MAX_DISPATCH_ATTEMPTS,
        orphanGraceSeconds: vars.ORPHAN_GRACE_SECONDS,
        reconcileBudgetPercent: vars.RECONCILE_BUDGET_PERCENT,
        recoverLostDeliveries: vars.RECOVER_LOST_DELIVERIES,
        retentionDays: vars.LEDGER_RETENTION_DAYS,
      },
      pacing: { jitPerHour: vars.JIT_RATE_PER_HOUR, jitBurst: vars.JIT_BURST },
      paused: vars.DISPATCH_PAUSED,
    },
  };
}

const cache = new WeakMap<Env, Config>();

/** Parses `env` once per isolate (the object is stable across requests) and keeps the result. */
export function loadConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached !== undefined) return cached;
  const intake = intakeSection(env);
  const dispatch = dispatchSection(env);
  const problems = [...(intake.ok ? [] : intake.problems), ...(dispatch.ok ? [] : dispatch.problems)];
  const config: Config = { intake, dispatch, problems };
  cache.set(env, config);
  return config;
}

/** `NAME message` lines, for the log and `/healthz`. */
export function describeProblems(problems: readonly ConfigProblem[]): string[] {
  return problems.map((problem) => `${problem.variable} ${problem.message}`);
}

/** Every secret value in the configuration, so the logger can scrub it from any line. */
export function secretValues(env: Env): string[] {
  const names = [
    "WEBHOOK_SECRET",
    "WEBHOOK_SECRET_PREVIOUS",
    "GITHUB_TOKEN",
    "GITHUB_APP_PRIVATE_KEY",
    "MODAL_TOKEN_SECRET",
    "MODAL_PROXY_TOKEN_SECRET",
    "LAUNCHER_SECRET",
  ] as const;
  return names
    .map((name) => env[name])
    .filter((value): value is string => typeof value === "string" && value !== "");
}
