/**
 * What parses but is probably not what the operator meant: shown on the status page and /api/status, never
 * blocking.
 * Names and rules only, never a value.
 */
import { closest, distance } from "fastest-levenshtein";
import type { Config } from "../config.ts";
import { DISPATCH_VARIABLES } from "./dispatch.ts";
import { INTAKE_VARIABLES } from "./intake.ts";
import { OPERATOR_VARIABLES } from "./operator.ts";
import { isSet } from "./variables.ts";

/** Every variable the Worker reads; a set variable that is not here but looks like one of ours is a typo. */
export const KNOWN_VARIABLES = [
  ...new Set([...INTAKE_VARIABLES, ...DISPATCH_VARIABLES, ...OPERATOR_VARIABLES]),
];

const OUR_PREFIXES =
  /^(WEBHOOK|REQUIRED|ALLOW|GITHUB|RUNNER|MODAL|LAUNCHER|SANDBOX|MAX_RUNNERS|STUCK|ORPHAN|RECONCILE|RECOVER|LEDGER|JIT|DISPATCH|STATUS|ACCESS)_/;

/** The known name a typo is closest to, if it is within three edits. */
function nearest(name: string): string {
  const known = closest(name, KNOWN_VARIABLES);
  return distance(name, known) <= 3 ? known : "";
}

export function configWarnings(env: Env, config: Config): string[] {
  const warnings: string[] = [];
  const known = new Set<string>(KNOWN_VARIABLES);
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== "string" || known.has(name)) continue;
    const suggestion = nearest(name);
    if (suggestion !== "" || OUR_PREFIXES.test(name)) {
      warnings.push(
        `${name} is not a variable of actions-on-modal and is ignored${suggestion === "" ? "" : `; did you mean ${suggestion}?`}`,
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
    if (dispatch.pacing.paused)
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
  if (isSet(env, "MODAL_PRICE_GPU_SECOND") && !isSet(env, "SANDBOX_GPU")) {
    warnings.push(
      "MODAL_PRICE_GPU_SECOND is set but SANDBOX_GPU is not: it prices SANDBOX_GPU's type only, so it is ignored",
    );
  }
  if (!isSet(env, "STATUS_TOKEN") && !isSet(env, "ACCESS_AUD")) {
    warnings.push("neither STATUS_TOKEN nor Cloudflare Access is set: the status page and /api are off");
  }
  return warnings;
}
