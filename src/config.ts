/**
 * The configuration: its types and `loadConfig`; the variables, their parsers and defaults are in src/config/
 * (one file per section). Each variable is parsed on its own so that every problem is reported at once, by name,
 * and never with its value. Empty strings count as unset: the dashboard and `.dev.vars` both produce them.
 *
 * Three sections fail independently: without a valid intake section the webhook answers 500; without a valid
 * dispatch section (GitHub auth, Modal credentials) the webhook still accepts jobs, which wait in the ledger until
 * an operator fixes the variables; without a valid operator section the status page and /api answer 500.
 */
import { dispatchSection } from "./config/dispatch.ts";
import { intakeSection } from "./config/intake.ts";
import { operatorSection } from "./config/operator.ts";

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

export type ModalConfig = { appName: string; environment: string | undefined } & (
  | { mode: "direct"; serverUrl: string; tokenId: string; tokenSecret: string }
  | {
      mode: "launcher";
      launcherUrl: string;
      proxyTokenId: string;
      proxyTokenSecret: string;
      launcherSecret: string;
    }
);

export interface RunnerConfig {
  /** Explicit image; when unset, the official runner image for the runner version is used. */
  image: string | undefined;
  cpu: number;
  memoryMiB: number;
  timeoutSeconds: number;
  gpu: string | undefined;
  /** Live runners allowed per repository owner; null: no cap (`unlimited`); 0: none start (jobs wait). */
  maxPerOwner: number | null;
  /** What a job may ask for with `modal-*` labels (src/jobs/sizing.ts). */
  sizing: SizingLimits;
}

/** What the operator allows a job's labels to ask for, and what a job that asks nothing gets. */
export interface SizingLimits {
  defaults: { cpu: number; memoryMiB: number; timeoutSeconds: number; gpu: string | undefined };
  maxCpu: number;
  maxMemoryMiB: number;
  maxTimeoutSeconds: number;
  /** GPU type (lower case) → the most of it one job may ask for. Empty: no GPU label is accepted. */
  allowedGpus: ReadonlyMap<string, number>;
  /** Image alias (lower case) → image reference. */
  images: ReadonlyMap<string, string>;
  /** Empty: no region label is accepted. */
  allowedRegions: readonly string[];
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
  /** Ended jobs' rows are kept this long (each is folded into its day's aggregate as it ends). */
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

/** Who may see the status page and use /api, and what a sandbox second costs (for estimates). */
export interface OperatorConfig {
  /** A bearer token for /status and /api (secret); used when Cloudflare Access is not configured. */
  statusToken: string | undefined;
  /** Cloudflare Access: the team's domain and the application's audience tag; both or neither. */
  access: { teamDomain: string; audience: string; certsUrl: string } | undefined;
  prices: ModalPrices;
}

/** USD per second, for cost estimates only (Modal's bill is the truth). */
export interface ModalPrices {
  cpuCoreSecond: number;
  memoryGibSecond: number;
  /** Per GPU (the configured type), per second; 0 when SANDBOX_GPU is unset. */
  gpuSecond: number;
  /** When the defaults were read off Modal's price list, or `configured`. */
  asOf: string;
}

export interface Config {
  intake: Section<IntakeConfig>;
  dispatch: Section<DispatchConfig>;
  operator: Section<OperatorConfig>;
  /** Every problem of every section, for `/healthz` and the log. */
  problems: ConfigProblem[];
}

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";

const cache = new WeakMap<Env, Config>();

/** Parses `env` once per isolate (the object is stable across requests) and keeps the result. */
export function loadConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached !== undefined) return cached;
  const intake = intakeSection(env);
  const dispatch = dispatchSection(env);
  const operator = operatorSection(env);
  const problems = [intake, dispatch, operator].flatMap((section) => (section.ok ? [] : section.problems));
  const config: Config = { intake, dispatch, operator, problems };
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
    "STATUS_TOKEN",
  ] as const;
  return names
    .map((name) => env[name])
    .filter((value): value is string => typeof value === "string" && value !== "");
}
