/**
 * What parses but is probably not what the operator meant: shown on the status page and /api/status, never
 * blocking.
 * Names and rules only, never a value.
 */
import type { Config } from "../config.ts";
import { isSet } from "./variables.ts";

/** Every variable the Worker reads; a set variable that is not here but looks like one of ours is a typo. */
export const KNOWN_VARIABLES = [
  "WEBHOOK_SECRET",
  "WEBHOOK_SECRET_PREVIOUS",
  "REQUIRED_LABELS",
  "ALLOWED_REPOS",
  "ALLOW_PUBLIC_REPOS",
  "WEBHOOK_MAX_BODY_BYTES",
  "GITHUB_TOKEN",
  "GITHUB_APP_ID",
  "GITHUB_APP_PRIVATE_KEY",
  "GITHUB_APP_INSTALLATION_ID",
  "GITHUB_ENTERPRISE_DOMAIN",
  "GITHUB_API_URL",
  "RUNNER_SCOPE",
  "RUNNER_GROUP_ID",
  "RUNNER_VERSION",
  "RUNNER_IMAGE",
  "MODAL_TOKEN_ID",
  "MODAL_TOKEN_SECRET",
  "MODAL_SERVER_URL",
  "MODAL_ENVIRONMENT",
  "MODAL_APP_NAME",
  "MODAL_LAUNCHER_URL",
  "MODAL_PROXY_TOKEN_ID",
  "MODAL_PROXY_TOKEN_SECRET",
  "LAUNCHER_SECRET",
  "SANDBOX_CPU",
  "SANDBOX_MEMORY_MB",
  "SANDBOX_TIMEOUT_SECONDS",
  "SANDBOX_GPU",
  "MAX_SANDBOX_CPU",
  "MAX_SANDBOX_MEMORY_MB",
  "MAX_SANDBOX_TIMEOUT_SECONDS",
  "ALLOWED_GPUS",
  "RUNNER_IMAGES",
  "ALLOWED_REGIONS",
  "MAX_RUNNERS_PER_OWNER",
  "STUCK_JOB_SECONDS",
  "MAX_DISPATCH_ATTEMPTS",
  "ORPHAN_GRACE_SECONDS",
  "RECONCILE_BUDGET_PERCENT",
  "RECOVER_LOST_DELIVERIES",
  "LEDGER_RETENTION_DAYS",
  "JIT_RATE_PER_HOUR",
  "JIT_BURST",
  "DISPATCH_PAUSED",
  "STATUS_TOKEN",
  "ACCESS_TEAM_DOMAIN",
  "ACCESS_AUD",
  "ACCESS_CERTS_URL",
  "MODAL_PRICE_CPU_CORE_SECOND",
  "MODAL_PRICE_MEMORY_GIB_SECOND",
  "MODAL_PRICE_GPU_SECOND",
] as const;

const OUR_PREFIXES =
  /^(WEBHOOK|REQUIRED|ALLOW|GITHUB|RUNNER|MODAL|LAUNCHER|SANDBOX|MAX_RUNNERS|STUCK|ORPHAN|RECONCILE|RECOVER|LEDGER|JIT|DISPATCH|STATUS|ACCESS)_/;

/** Edit distance, for "did you mean": short names only, so the quadratic cost is nothing. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}

function nearest(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const known of KNOWN_VARIABLES) {
    const d = distance(name, known);
    if (best === undefined || d < best.distance) best = { name: known, distance: d };
  }
  return best !== undefined && best.distance <= 3 ? best.name : undefined;
}

export function configWarnings(env: Env, config: Config): string[] {
  const warnings: string[] = [];
  const known = new Set<string>(KNOWN_VARIABLES);
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== "string" || known.has(name)) continue;
    const suggestion = nearest(name);
    if (suggestion !== undefined || OUR_PREFIXES.test(name)) {
      warnings.push(
        `${name} is not a variable of actions-on-modal and is ignored${suggestion === undefined ? "" : `; did you mean ${suggestion}?`}`,
      );
    }
  }
  if (config.dispatch.ok) {
    const dispatch = config.dispatch.value;
    if (dispatch.runner.maxPerOwner === 0) {
      warnings.push(
        "MAX_RUNNERS_PER_OWNER is 0: no runner starts and every job waits (unlimited means no cap)",
      );
    }
    if (dispatch.paused)
      warnings.push("DISPATCH_PAUSED is true: no new runner starts; jobs wait in the ledger");
    if (!dispatch.lifecycle.recoverLostDeliveries) {
      warnings.push("RECOVER_LOST_DELIVERIES is false: deliveries GitHub failed to make are not looked for");
    }
  }
  if (config.intake.ok && config.intake.value.allowedRepos.length === 0) {
    warnings.push("ALLOWED_REPOS is empty: every repository that can reach this webhook may start runners");
  }
  if (config.intake.ok && config.intake.value.allowPublicRepos) {
    warnings.push(
      "ALLOW_PUBLIC_REPOS is true: pull requests from forks of public repositories can run on your runners",
    );
  }
  if (!isSet(env, "STATUS_TOKEN") && !isSet(env, "ACCESS_AUD")) {
    warnings.push("neither STATUS_TOKEN nor Cloudflare Access is set: the status page and /api are off");
  }
  return warnings;
}
