/** The configuration as the status page shows it: the main non-secret variables' effective values, and whether each secret is set. */

import { isSet } from "../config/variables.ts";
import type { Config } from "../config.ts";

const SECRETS = [
  "WEBHOOK_SECRET",
  "WEBHOOK_SECRET_PREVIOUS",
  "GITHUB_TOKEN",
  "GITHUB_APP_PRIVATE_KEY",
  "MODAL_TOKEN_ID",
  "MODAL_TOKEN_SECRET",
  "MODAL_PROXY_TOKEN_ID",
  "MODAL_PROXY_TOKEN_SECRET",
  "LAUNCHER_SECRET",
  "STATUS_TOKEN",
] as const;

/** A URL as shown: without any user or password someone put in it. */
function shown(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.username === "" && parsed.password === "") return url;
  parsed.username = "";
  parsed.password = "";
  return parsed.toString().replace(/\/$/, "");
}

export function configSummary(env: Env, config: Config): { name: string; value: string }[] {
  const rows: { name: string; value: string }[] = [];
  const add = (name: string, value: string | number | boolean | null | undefined) =>
    rows.push({ name, value: value === undefined || value === null ? "—" : String(value) });
  if (config.intake.ok) {
    const intake = config.intake.value;
    add("REQUIRED_LABELS", intake.requiredLabels.join(","));
    add("ALLOWED_REPOS", intake.allowedRepos.map((p) => `${p.owner}/${p.repo}`).join(",") || "all");
    add("ALLOW_PUBLIC_REPOS", intake.allowPublicRepos);
  }
  if (config.dispatch.ok) {
    const { github, modal, runner, lifecycle, pacing } = config.dispatch.value;
    add("GitHub API", shown(github.apiUrl));
    add("GitHub auth", github.auth.kind === "token" ? "PAT" : `App ${github.auth.appId}`);
    add("RUNNER_SCOPE", github.runnerScope);
    add("RUNNER_GROUP_ID", github.runnerGroupId);
    add("RUNNER_VERSION", github.runnerVersion);
    add(
      "Modal",
      modal.mode === "direct"
        ? `direct (${shown(modal.serverUrl)})`
        : `launcher (${shown(modal.launcherUrl)})`,
    );
    add("MODAL_APP_NAME", modal.appName);
    add("MODAL_ENVIRONMENT", modal.environment ?? "default");
    add("RUNNER_IMAGE", runner.image ?? "official image of RUNNER_VERSION");
    add("SANDBOX_CPU", runner.cpu);
    add("SANDBOX_MEMORY_MB", runner.memoryMiB);
    add("SANDBOX_TIMEOUT_SECONDS", runner.timeoutSeconds);
    add("SANDBOX_GPU", runner.gpu ?? "none");
    add("MAX_SANDBOX_CPU", runner.sizing.maxCpu);
    add("MAX_SANDBOX_MEMORY_MB", runner.sizing.maxMemoryMiB);
    add("MAX_SANDBOX_TIMEOUT_SECONDS", runner.sizing.maxTimeoutSeconds);
    add(
      "ALLOWED_GPUS",
      [...runner.sizing.allowedGpus].map(([type, most]) => `${type}:${most}`).join(",") || "none",
    );
    add("RUNNER_IMAGES", [...runner.sizing.images.keys()].join(",") || "none");
    add("ALLOWED_REGIONS", runner.sizing.allowedRegions.join(",") || "none");
    add("MAX_RUNNERS_PER_OWNER", runner.maxPerOwner ?? "unlimited");
    add("STUCK_JOB_SECONDS", lifecycle.stuckJobSeconds);
    add("MAX_DISPATCH_ATTEMPTS", lifecycle.maxDispatchAttempts);
    add("ORPHAN_GRACE_SECONDS", lifecycle.orphanGraceSeconds);
    add("RECONCILE_BUDGET_PERCENT", lifecycle.reconcileBudgetPercent);
    add("RECOVER_LOST_DELIVERIES", lifecycle.recoverLostDeliveries);
    add("LEDGER_RETENTION_DAYS", lifecycle.retentionDays);
    add("JIT_RATE_PER_HOUR", pacing.jitPerHour);
    add("JIT_BURST", pacing.jitBurst);
    add("DISPATCH_PAUSED", pacing.paused);
  }
  for (const name of SECRETS) add(name, isSet(env, name) ? "set" : "not set");
  return rows;
}
