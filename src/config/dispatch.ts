/**
 * The dispatch section: GitHub and Modal credentials, the runner sandbox, the lifecycle and the JIT pace. GitHub
 * authenticates with a token or as an App, Modal is reached directly or through the launcher: one schema per mode,
 * chosen by which variables are set, so a mode's variables are required only in that mode.
 */
import * as z from "zod/mini";
import {
  DEFAULT_GITHUB_API_URL,
  type DispatchConfig,
  type GitHubAuthConfig,
  type ModalConfig,
  type Section,
} from "../config.ts";
import { MODAL_GPU_TYPES, maxGpuCount } from "../jobs/sizing.ts";
import * as v from "./variables.ts";

const GITHUB_TOKEN = {
  GITHUB_TOKEN: v.required(v.text, "is required (or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY)"),
};
const GITHUB_APP = {
  // The numeric App ID, or the App's client ID (`Iv…`), which GitHub now recommends as the JWT issuer.
  GITHUB_APP_ID: v.required(
    v.matching(/^(\d+|Iv[A-Za-z0-9.]+)$/),
    "is required with GITHUB_APP_PRIVATE_KEY",
    "must be the App ID or its client ID",
  ),
  GITHUB_APP_PRIVATE_KEY: v.required(
    v.matching(/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----/),
    "is required with GITHUB_APP_ID",
    "must be a PEM private key (PKCS#1 or PKCS#8)",
  ),
  GITHUB_APP_INSTALLATION_ID: v.integer(undefined, 0, Number.MAX_SAFE_INTEGER),
};
const GITHUB = {
  GITHUB_ENTERPRISE_DOMAIN: v.optional(v.host, v.HOST_RULE),
  GITHUB_API_URL: v.httpsUrl(),
  RUNNER_SCOPE: v.variable(v.oneOf("repo", "org"), "repo", "must be repo or org"),
  RUNNER_GROUP_ID: v.integer(1, 1, Number.MAX_SAFE_INTEGER),
  RUNNER_VERSION: v.runnerVersion(),
  RUNNER_IMAGE: v.optional(v.matching(v.IMAGE), "must be a container image reference"),
};

const withLauncher = "is required with MODAL_LAUNCHER_URL";
const MODAL_DIRECT = {
  MODAL_TOKEN_ID: v.required(v.text),
  MODAL_TOKEN_SECRET: v.required(v.text),
  MODAL_SERVER_URL: v.variable(v.url, "https://api.modal.com", "must be an http(s) URL"),
};
const MODAL_LAUNCHER = {
  MODAL_LAUNCHER_URL: v.required(v.url, "is required", "must be an http(s) URL"),
  MODAL_PROXY_TOKEN_ID: v.required(v.text, withLauncher),
  MODAL_PROXY_TOKEN_SECRET: v.required(v.text, withLauncher),
  LAUNCHER_SECRET: v.required(v.text, withLauncher),
};
const MODAL = {
  MODAL_APP_NAME: v.variable(
    v.matching(/^[A-Za-z0-9._-]{1,64}$/),
    "actions-on-modal",
    "must be 1-64 letters, digits, '.', '_' or '-'",
  ),
  MODAL_ENVIRONMENT: v.optional(v.matching(/^[A-Za-z0-9_-]{1,64}$/), "must be a Modal environment name"),
};

const DAY = 24 * 60 * 60;
const RUNNER = {
  SANDBOX_CPU: v.decimal(2, 0.125, 64),
  SANDBOX_MEMORY_MB: v.integer(4096, 128, 512 * 1024),
  // Modal's maximum sandbox lifetime is 24 hours.
  SANDBOX_TIMEOUT_SECONDS: v.integer(3600, 60, DAY),
  SANDBOX_GPU: v.optional(
    v.matching(/^[A-Za-z0-9-]+(:\d+)?$/),
    "must be a Modal GPU type such as A10G or H100:2",
  ),
  // What `modal-*` labels may ask for (src/jobs/sizing.ts). Unset maxima are the SANDBOX_* values: a job may ask
  // for less than the default, never more, until an operator says so.
  MAX_SANDBOX_CPU: v.decimal(undefined, 0.125, 64),
  MAX_SANDBOX_MEMORY_MB: v.integer(undefined, 128, 512 * 1024),
  MAX_SANDBOX_TIMEOUT_SECONDS: v.integer(undefined, 60, DAY),
  ALLOWED_GPUS: v.gpuAllowList(MODAL_GPU_TYPES, maxGpuCount),
  RUNNER_IMAGES: v.imageMap(),
  ALLOWED_REGIONS: v.regionList(),
  MAX_RUNNERS_PER_OWNER: v.runnerCap(50),
  STUCK_JOB_SECONDS: v.integer(180, 30, DAY),
  MAX_DISPATCH_ATTEMPTS: v.integer(3, 1, 20),
  ORPHAN_GRACE_SECONDS: v.integer(600, 60, DAY),
  RECONCILE_BUDGET_PERCENT: v.integer(10, 1, 100),
  RECOVER_LOST_DELIVERIES: v.flag(true),
  LEDGER_RETENTION_DAYS: v.integer(14, 1, 365),
  // GitHub documents at most 80 content-creating requests a minute and 500 an hour, without saying whether a JIT
  // registration is one. 420/h with a burst of 60 stays under both: at most 67 in any minute, 480 in any hour.
  JIT_RATE_PER_HOUR: v.integer(420, 1, 1_000_000),
  JIT_BURST: v.integer(60, 1, 10_000),
  DISPATCH_PAUSED: v.flag(false),
};

const GitHubToken = z.pipe(
  z.object(GITHUB_TOKEN),
  z.transform((vars): GitHubAuthConfig => ({ kind: "token", token: vars.GITHUB_TOKEN })),
);
const GitHubApp = z.pipe(
  z.object(GITHUB_APP),
  z.transform(
    (vars): GitHubAuthConfig => ({
      kind: "app",
      appId: vars.GITHUB_APP_ID,
      privateKey: vars.GITHUB_APP_PRIVATE_KEY,
      installationId: vars.GITHUB_APP_INSTALLATION_ID || undefined,
    }),
  ),
);
const ModalDirect = z.pipe(
  z.object({ ...MODAL_DIRECT, ...MODAL }),
  z.transform(
    (vars): ModalConfig => ({
      mode: "direct",
      serverUrl: vars.MODAL_SERVER_URL,
      tokenId: vars.MODAL_TOKEN_ID,
      tokenSecret: vars.MODAL_TOKEN_SECRET,
      appName: vars.MODAL_APP_NAME,
      environment: vars.MODAL_ENVIRONMENT,
    }),
  ),
);
const ModalLauncher = z.pipe(
  z.object({ ...MODAL_LAUNCHER, ...MODAL }),
  z.transform(
    (vars): ModalConfig => ({
      mode: "launcher",
      launcherUrl: vars.MODAL_LAUNCHER_URL,
      proxyTokenId: vars.MODAL_PROXY_TOKEN_ID,
      proxyTokenSecret: vars.MODAL_PROXY_TOKEN_SECRET,
      launcherSecret: vars.LAUNCHER_SECRET,
      appName: vars.MODAL_APP_NAME,
      environment: vars.MODAL_ENVIRONMENT,
    }),
  ),
);

export const DISPATCH_VARIABLES = [
  GITHUB_TOKEN,
  GITHUB_APP,
  GITHUB,
  MODAL_DIRECT,
  MODAL,
  MODAL_LAUNCHER,
  RUNNER,
].flatMap((shape) => Object.keys(shape));

/** A default above its maximum would refuse every job that asks for nothing. */
const LIMITS = [
  ["SANDBOX_CPU", "MAX_SANDBOX_CPU"],
  ["SANDBOX_MEMORY_MB", "MAX_SANDBOX_MEMORY_MB"],
  ["SANDBOX_TIMEOUT_SECONDS", "MAX_SANDBOX_TIMEOUT_SECONDS"],
] as const;

export function dispatchSection(env: Env): Section<DispatchConfig> {
  const app = v.isSet(env, "GITHUB_APP_ID") || v.isSet(env, "GITHUB_APP_PRIVATE_KEY");
  const auth = v.read(env, app ? GitHubApp : GitHubToken);
  const github = v.read(env, z.object(GITHUB));
  const modal = v.read(env, v.isSet(env, "MODAL_LAUNCHER_URL") ? ModalLauncher : ModalDirect);
  const runner = v.read(env, z.object(RUNNER));
  if (!(auth.ok && github.ok && modal.ok && runner.ok)) return v.failed(auth, github, modal, runner);
  const vars = { ...github.value, ...runner.value };
  const limits = LIMITS.filter(([value, max]) => vars[value] > (vars[max] ?? Number.POSITIVE_INFINITY));
  if (limits.length > 0) {
    return {
      ok: false,
      problems: limits.map(([value, max]) => ({ variable: max, message: `must be at least ${value}` })),
    };
  }

  const defaults = {
    cpu: vars.SANDBOX_CPU,
    memoryMiB: vars.SANDBOX_MEMORY_MB,
    timeoutSeconds: vars.SANDBOX_TIMEOUT_SECONDS,
    gpu: vars.SANDBOX_GPU,
  };
  const enterprise = vars.GITHUB_ENTERPRISE_DOMAIN;
  return {
    ok: true,
    value: {
      github: {
        apiUrl:
          vars.GITHUB_API_URL ??
          (enterprise === undefined ? DEFAULT_GITHUB_API_URL : `https://${enterprise}/api/v3`),
        auth: auth.value,
        runnerScope: vars.RUNNER_SCOPE,
        runnerGroupId: vars.RUNNER_GROUP_ID,
        runnerVersion: vars.RUNNER_VERSION,
      },
      modal: modal.value,
      runner: {
        ...defaults,
        image: vars.RUNNER_IMAGE,
        maxPerOwner: vars.MAX_RUNNERS_PER_OWNER,
        sizing: {
          defaults,
          maxCpu: vars.MAX_SANDBOX_CPU ?? vars.SANDBOX_CPU,
          maxMemoryMiB: vars.MAX_SANDBOX_MEMORY_MB ?? vars.SANDBOX_MEMORY_MB,
          maxTimeoutSeconds: vars.MAX_SANDBOX_TIMEOUT_SECONDS ?? vars.SANDBOX_TIMEOUT_SECONDS,
          allowedGpus: vars.ALLOWED_GPUS,
          images: vars.RUNNER_IMAGES,
          allowedRegions: vars.ALLOWED_REGIONS,
        },
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
