/** The dispatch section: GitHub and Modal credentials, the runner sandbox, the lifecycle and the JIT pace. */
import * as z from "zod/mini";
import {
  type ConfigProblem,
  DEFAULT_GITHUB_API_URL,
  DEFAULT_MODAL_SERVER_URL,
  type DispatchConfig,
  type GitHubAuthConfig,
  type ModalConfig,
  type Section,
} from "../config.ts";
import {
  APP_NAME,
  decimal,
  ENV_NAME,
  flag,
  gpuAllowList,
  hostname,
  imageMap,
  httpsUrl,
  integer,
  isSet,
  pattern,
  problemsOf,
  regionList,
  runnerCap,
  runnerVersion,
  text,
} from "./variables.ts";
import { MODAL_GPU_TYPES, maxGpuCount } from "../jobs/sizing.ts";

export const DispatchEnvSchema = z.object({
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
  // What `modal-*` labels may ask for (src/jobs/sizing.ts). Unset maxima are the SANDBOX_* values: a job may ask
  // for less than the default, never more, until an operator says so. 0 is the "unset" marker (below every min).
  MAX_SANDBOX_CPU: decimal(0, 0.125, 64),
  MAX_SANDBOX_MEMORY_MB: integer(0, 128, 512 * 1024),
  MAX_SANDBOX_TIMEOUT_SECONDS: integer(0, 60, 24 * 60 * 60),
  ALLOWED_GPUS: gpuAllowList(MODAL_GPU_TYPES, maxGpuCount),
  RUNNER_IMAGES: imageMap(),
  ALLOWED_REGIONS: regionList(),
  MAX_RUNNERS_PER_OWNER: runnerCap(),
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

/** Rules between variables. They look only at which variables are set, so they run even when a value is bad. */
function companionProblems(env: Env): ConfigProblem[] {
  const set = (name: keyof Env) => isSet(env, name);
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

/** A default above its maximum would refuse every job that asks for nothing. */
function limitProblems(vars: z.infer<typeof DispatchEnvSchema>): ConfigProblem[] {
  const pairs = [
    ["SANDBOX_CPU", vars.SANDBOX_CPU, "MAX_SANDBOX_CPU", vars.MAX_SANDBOX_CPU],
    ["SANDBOX_MEMORY_MB", vars.SANDBOX_MEMORY_MB, "MAX_SANDBOX_MEMORY_MB", vars.MAX_SANDBOX_MEMORY_MB],
    [
      "SANDBOX_TIMEOUT_SECONDS",
      vars.SANDBOX_TIMEOUT_SECONDS,
      "MAX_SANDBOX_TIMEOUT_SECONDS",
      vars.MAX_SANDBOX_TIMEOUT_SECONDS,
    ],
  ] as const;
  return pairs
    .filter(([, value, , max]) => max !== 0 && value > max)
    .map(([variable, , limit]) => ({ variable: limit, message: `must be at least ${variable}` }));
}

/** Narrows a value the companion rules have already proven present. */
function present<T>(value: T | undefined, variable: string): T {
  if (value === undefined) throw new Error(`${variable} was checked but is missing`);
  return value;
}

export function dispatchSection(env: Env): Section<DispatchConfig> {
  const parsed = DispatchEnvSchema.safeParse(env);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  for (const problem of companionProblems(env)) {
    if (!problems.some((known) => known.variable === problem.variable)) problems.push(problem);
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const vars = parsed.data;
  const limits = limitProblems(vars);
  if (limits.length > 0) return { ok: false, problems: limits };

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
        sizing: {
          defaults: {
            cpu: vars.SANDBOX_CPU,
            memoryMiB: vars.SANDBOX_MEMORY_MB,
            timeoutSeconds: vars.SANDBOX_TIMEOUT_SECONDS,
            gpu: vars.SANDBOX_GPU,
          },
          maxCpu: vars.MAX_SANDBOX_CPU || vars.SANDBOX_CPU,
          maxMemoryMiB: vars.MAX_SANDBOX_MEMORY_MB || vars.SANDBOX_MEMORY_MB,
          maxTimeoutSeconds: vars.MAX_SANDBOX_TIMEOUT_SECONDS || vars.SANDBOX_TIMEOUT_SECONDS,
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
