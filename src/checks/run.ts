/**
 * The deep health check: the configuration, then GitHub and Modal side by side, each with the configured
 * credentials. The answer is scrubbed of every configured secret before it leaves — a second net under the rule
 * that no message carries one — because /healthz answers anyone who asks.
 */
import { type Config, describeProblems, secretValues } from "../config.ts";
import { redactor } from "../redact.ts";
import { type CheckDeps, type CheckReport, type CheckResult, failed, messageOf, passed } from "./check.ts";
import { checkGitHub } from "./github.ts";
import { checkModal } from "./modal.ts";

function configCheck(config: Config): CheckResult {
  if (config.problems.length === 0) return passed("config", "every variable parses");
  const names = [...new Set(config.problems.map((problem) => problem.variable))].join(", ");
  const fix = `set ${names} as the detail says (README.md, "Configuration")`;
  return failed(
    "config",
    describeProblems(config.problems).join("; "),
    config.dispatch.ok ? fix : `${fix}; GitHub and Modal are checked once the dispatch variables parse`,
  );
}

/** A check that threw instead of answering (a bug): reported as failed, not as a 500. */
async function guarded(name: string, run: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await run();
  } catch (error) {
    return [failed(name, `the check itself failed: ${messageOf(error)}`, "see the Worker's log")];
  }
}

export async function runChecks(env: Env, config: Config, deps: CheckDeps): Promise<CheckReport> {
  const checkedAt = new Date(deps.now()).toISOString();
  const checks = [configCheck(config)];
  const dispatch = config.dispatch.ok ? config.dispatch.value : undefined;
  if (dispatch !== undefined) {
    const allowed = config.intake.ok ? config.intake.value.allowedRepos : [];
    const results = await Promise.all([
      guarded("github", () => checkGitHub(dispatch.github, allowed, deps)),
      guarded("modal", () => checkModal(dispatch.modal, deps)),
    ]);
    checks.push(...results.flat());
  }
  // Token ids are not secrets, but the status page hides them too: neither is shown here.
  const ids =
    dispatch === undefined
      ? []
      : [dispatch.modal.mode === "direct" ? dispatch.modal.tokenId : dispatch.modal.proxyTokenId];
  const scrub = redactor([...secretValues(env), ...ids]);
  return {
    ok: checks.every((check) => check.ok),
    checkedAt,
    checks: checks.map((check) => ({
      ...check,
      detail: scrub(check.detail),
      ...(check.fix === undefined ? {} : { fix: scrub(check.fix) }),
    })),
  };
}
