/**
 * The dispatch section: GitHub and Modal credentials, the runner sandbox, the lifecycle and the JIT pace. GitHub
 * authenticates with a token or as an App, Modal is reached directly or through the launcher: one schema per mode,
 * chosen by which variables are set, so a mode's variables are required only in that mode.
 */
import * as z from "zod/mini";
import type { Section } from "../config.ts";
import { MODAL_GPU_TYPES, maxGpuCount } from "../jobs/sizing.ts";
import * as v from "./variables.ts";

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
const MAX_ID = Number.MAX_SAFE_INTEGER;
const DAY = 24 * 60 * 60;

const GitHubToken = v.fields({
  kind: "token",
  token: ["GITHUB_TOKEN", v.required(v.text, "is required (or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY)")],
});
const GITHUB_APP = v.fields({
  kind: "app",
  // The numeric App ID, or the App's client ID (`Iv…`), which GitHub now recommends as the JWT issuer.
  appId: [
    "GITHUB_APP_ID",
    v.required(
      v.matching(/^(\d+|Iv[A-Za-z0-9.]+)$/),
      "is required with GITHUB_APP_PRIVATE_KEY",
      "must be the App ID or its client ID",
    ),
  ],
  privateKey: [
    "GITHUB_APP_PRIVATE_KEY",
    v.required(
      v.matching(/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----/),
      "is required with GITHUB_APP_ID",
      "must be a PEM private key (PKCS#1 or PKCS#8)",
    ),
  ],
  installationId: ["GITHUB_APP_INSTALLATION_ID", v.integer(undefined, 0, MAX_ID)],
});
// 0 reads as unset: the installation comes from each delivery.
const GitHubApp = z.pipe(
  GITHUB_APP,
  z.transform((app) => ({ ...app, installationId: app.installationId || undefined })),
);
export type GitHubAuthConfig = z.output<typeof GitHubToken> | z.output<typeof GitHubApp>;

const GITHUB = v.fields({
  enterpriseDomain: ["GITHUB_ENTERPRISE_DOMAIN", v.optional(v.host, v.HOST_RULE)],
  apiUrl: ["GITHUB_API_URL", v.httpsUrl()],
  runnerScope: ["RUNNER_SCOPE", v.variable(v.oneOf("repo", "org"), "repo", "must be repo or org")],
  runnerGroupId: ["RUNNER_GROUP_ID", v.integer(1, 1, MAX_ID)],
  /** `latest`, or an explicit version such as `2.330.0`. */
  runnerVersion: ["RUNNER_VERSION", v.runnerVersion()],
});
const GitHub = z.pipe(
  GITHUB,
  z.transform(({ enterpriseDomain, apiUrl, ...github }) => ({
    ...github,
    apiUrl:
      apiUrl ??
      (enterpriseDomain === undefined ? DEFAULT_GITHUB_API_URL : `https://${enterpriseDomain}/api/v3`),
  })),
);
export type GitHubConfig = z.output<typeof GitHub> & { auth: GitHubAuthConfig };

const withLauncher = "is required with MODAL_LAUNCHER_URL";
const MODAL = {
  appName: [
    "MODAL_APP_NAME",
    v.variable(
      v.matching(/^[A-Za-z0-9._-]{1,64}$/),
      "actions-on-modal",
      "must be 1-64 letters, digits, '.', '_' or '-'",
    ),
  ],
  environment: [
    "MODAL_ENVIRONMENT",
    v.optional(v.matching(/^[A-Za-z0-9_-]{1,64}$/), "must be a Modal environment name"),
  ],
} as const;
const ModalDirect = v.fields({
  mode: "direct",
  tokenId: ["MODAL_TOKEN_ID", v.required(v.text)],
  tokenSecret: ["MODAL_TOKEN_SECRET", v.required(v.text)],
  serverUrl: ["MODAL_SERVER_URL", v.variable(v.url, "https://api.modal.com", "must be an http(s) URL")],
  ...MODAL,
});
const ModalLauncher = v.fields({
  mode: "launcher",
  launcherUrl: ["MODAL_LAUNCHER_URL", v.required(v.url, "is required", "must be an http(s) URL")],
  proxyTokenId: ["MODAL_PROXY_TOKEN_ID", v.required(v.text, withLauncher)],
  proxyTokenSecret: ["MODAL_PROXY_TOKEN_SECRET", v.required(v.text, withLauncher)],
  launcherSecret: ["LAUNCHER_SECRET", v.required(v.text, withLauncher)],
  ...MODAL,
});
export type ModalConfig = z.output<typeof ModalDirect> | z.output<typeof ModalLauncher>;

const RUNNER = v.fields({
  cpu: ["SANDBOX_CPU", v.decimal(2, 0.125, 64)],
  memoryMiB: ["SANDBOX_MEMORY_MB", v.integer(4096, 128, 512 * 1024)],
  // Modal's maximum sandbox lifetime is 24 hours.
  timeoutSeconds: ["SANDBOX_TIMEOUT_SECONDS", v.integer(3600, 60, DAY)],
  gpu: [
    "SANDBOX_GPU",
    v.optional(v.matching(/^[A-Za-z0-9-]+(:\d+)?$/), "must be a Modal GPU type such as A10G or H100:2"),
  ],
  /** Explicit image; when unset, the official runner image for the runner version is used. */
  image: ["RUNNER_IMAGE", v.optional(v.matching(v.IMAGE), "must be a container image reference")],
  // What `modal-*` labels may ask for (src/jobs/sizing.ts). Unset maxima are the SANDBOX_* values: a job may ask
  // for less than the default, never more, until an operator says so.
  maxCpu: ["MAX_SANDBOX_CPU", v.decimal(undefined, 0.125, 64)],
  maxMemoryMiB: ["MAX_SANDBOX_MEMORY_MB", v.integer(undefined, 128, 512 * 1024)],
  maxTimeoutSeconds: ["MAX_SANDBOX_TIMEOUT_SECONDS", v.integer(undefined, 60, DAY)],
  /** GPU type (lower case) → the most of it one job may ask for. Empty: no GPU label is accepted. */
  allowedGpus: ["ALLOWED_GPUS", v.gpuAllowList(MODAL_GPU_TYPES, maxGpuCount)],
  /** Image alias (lower case) → image reference. */
  images: ["RUNNER_IMAGES", v.imageMap()],
  /** Empty: no region label is accepted. */
  allowedRegions: ["ALLOWED_REGIONS", v.regionList()],
  /** Live runners allowed per repository owner; null: no cap (`unlimited`); 0: none start (jobs wait). */
  maxPerOwner: ["MAX_RUNNERS_PER_OWNER", v.runnerCap(50)],
});
/** A default above its maximum would refuse every job that asks for nothing. */
const LIMITS = [
  ["cpu", "maxCpu", "SANDBOX_CPU", "MAX_SANDBOX_CPU"],
  ["memoryMiB", "maxMemoryMiB", "SANDBOX_MEMORY_MB", "MAX_SANDBOX_MEMORY_MB"],
  ["timeoutSeconds", "maxTimeoutSeconds", "SANDBOX_TIMEOUT_SECONDS", "MAX_SANDBOX_TIMEOUT_SECONDS"],
] as const;
/** The sandbox a job gets, and in `sizing` what it may ask for with `modal-*` labels (src/jobs/sizing.ts). */
const Runner = z.pipe(
  RUNNER,
  z.transform((runner, ctx) => {
    for (const [value, max, name, maxName] of LIMITS) {
      if (runner[value] > (runner[max] ?? Number.POSITIVE_INFINITY))
        ctx.issues.push({
          code: "custom",
          message: `must be at least ${name}`,
          input: undefined,
          path: [maxName],
        });
    }
    const { cpu, memoryMiB, timeoutSeconds, gpu, image, maxPerOwner, ...limits } = runner;
    const defaults = { cpu, memoryMiB, timeoutSeconds, gpu };
    const sizing = {
      ...limits,
      defaults,
      maxCpu: limits.maxCpu ?? cpu,
      maxMemoryMiB: limits.maxMemoryMiB ?? memoryMiB,
      maxTimeoutSeconds: limits.maxTimeoutSeconds ?? timeoutSeconds,
    };
    return { ...defaults, image, maxPerOwner, sizing };
  }),
);
export type RunnerConfig = z.output<typeof Runner>;
export type SizingLimits = RunnerConfig["sizing"];

/** What the reconciler holds each job and runner to (see README, "Lifecycle guarantees"). */
const Lifecycle = v.fields({
  /** A dispatched job GitHub still reports queued this long after its sandbox was requested is looked at. */
  stuckJobSeconds: ["STUCK_JOB_SECONDS", v.integer(180, 30, DAY)],
  /** Runners started for one job, re-dispatches included. */
  maxDispatchAttempts: ["MAX_DISPATCH_ATTEMPTS", v.integer(3, 1, 20)],
  /** How long a useless runner or sandbox may live before it is removed (when nothing told us sooner). */
  orphanGraceSeconds: ["ORPHAN_GRACE_SECONDS", v.integer(600, 60, DAY)],
  /** The most of a credential's hourly GitHub budget the reconciler may spend, in percent. */
  reconcileBudgetPercent: ["RECONCILE_BUDGET_PERCENT", v.integer(10, 1, 100)],
  /** Look for webhook deliveries that never reached us, and queued jobs of allowlisted repositories. */
  recoverLostDeliveries: ["RECOVER_LOST_DELIVERIES", v.flag(true)],
  /** Ended jobs' rows are kept this long (each is folded into its day's aggregate as it ends). */
  retentionDays: ["LEDGER_RETENTION_DAYS", v.integer(14, 1, 365)],
});
export type LifecycleConfig = z.output<typeof Lifecycle>;

/** How fast new runners start: JIT registrations per credential go through a token bucket; none while paused. */
const Pacing = v.fields({
  // GitHub documents at most 80 content-creating requests a minute and 500 an hour, without saying whether a JIT
  // registration is one. 420/h with a burst of 60 stays under both: at most 67 in any minute, 480 in any hour.
  jitPerHour: ["JIT_RATE_PER_HOUR", v.integer(420, 1, 1_000_000)],
  jitBurst: ["JIT_BURST", v.integer(60, 1, 10_000)],
  /** DISPATCH_PAUSED: new runners wait in the ledger. */
  paused: ["DISPATCH_PAUSED", v.flag(false)],
});
export type PacingConfig = z.output<typeof Pacing>;

export interface DispatchConfig {
  github: GitHubConfig;
  modal: ModalConfig;
  runner: RunnerConfig;
  lifecycle: LifecycleConfig;
  pacing: PacingConfig;
}

export const DISPATCH_VARIABLES = [
  GitHubToken,
  GITHUB_APP,
  GITHUB,
  ModalDirect,
  ModalLauncher,
  RUNNER,
  Lifecycle,
  Pacing,
].flatMap((group) => group.variables);

export function dispatchSection(env: Env): Section<DispatchConfig> {
  const app = v.isSet(env, "GITHUB_APP_ID") || v.isSet(env, "GITHUB_APP_PRIVATE_KEY");
  const Dispatch = v.all({
    auth: app ? GitHubApp : GitHubToken,
    github: GitHub,
    modal: v.isSet(env, "MODAL_LAUNCHER_URL") ? ModalLauncher : ModalDirect,
    runner: Runner,
    lifecycle: Lifecycle,
    pacing: Pacing,
  });
  const parsed = v.read(env, Dispatch);
  if (!parsed.ok) return parsed;
  const { auth, github, ...dispatch } = parsed.value;
  return { ok: true, value: { ...dispatch, github: { ...github, auth } } };
}
