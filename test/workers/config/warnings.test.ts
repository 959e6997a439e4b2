/**
 * Configuration warnings: what parses but is probably not what the operator meant. Each rule of
 * src/config/warnings.ts once, against the test Worker's env with a few variables changed.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configWarnings } from "../../../src/config/warnings.ts";
import { loadConfig } from "../../../src/config.ts";
import { type Vars, withVars } from "../../support/vars.ts";

/** The test Worker has no allowlist and no operator auth: those two warnings are always there. */
const ALWAYS = [
  "ALLOWED_REPOS is empty: every repository that can reach this webhook may start runners",
  "neither STATUS_TOKEN nor Cloudflare Access is set: the status page and /api are off",
];

function warningsOf(workerEnv: Env): string[] {
  return configWarnings(workerEnv, loadConfig(workerEnv));
}

/** The env with a variable the Worker does not know: `Env` has no key for it, so it is added beside. */
function withUnknown(name: string, value: string, base: Env = env): Env {
  return Object.assign({}, base, { [name]: value });
}

describe("configWarnings", () => {
  it("has only the test Worker's two warnings when nothing else is off", () => {
    expect(warningsOf(env)).toEqual(ALWAYS);
  });

  it.each([
    ["ALLOWED_REPO", "ALLOWED_REPOS"],
    ["SANDBOX_CPUS", "SANDBOX_CPU"],
    ["GITHUB_APP_INSTALATION_ID", "GITHUB_APP_INSTALLATION_ID"],
    ["MODAL_TOKEN", "MODAL_TOKEN_ID"],
  ])("names %s as ignored and suggests %s", (typo, meant) => {
    const warnings = warningsOf(withUnknown(typo, "acme/api"));
    expect(warnings).toContain(
      `${typo} is not a variable of actions-on-modal and is ignored; did you mean ${meant}?`,
    );
    expect(JSON.stringify(warnings)).not.toContain("acme/api");
  });

  it("names a variable with one of our prefixes even when nothing is close to it", () => {
    expect(warningsOf(withUnknown("GITHUB_SOMETHING_ELSE_ENTIRELY", "x"))).toContain(
      "GITHUB_SOMETHING_ELSE_ENTIRELY is not a variable of actions-on-modal and is ignored",
    );
  });

  it("leaves variables alone that are neither ours nor close to ours", () => {
    expect(warningsOf(withUnknown("NODE_ENV", "production"))).toEqual(ALWAYS);
  });

  it.each<[string, Vars, string]>([
    [
      "MAX_RUNNERS_PER_OWNER=0",
      { MAX_RUNNERS_PER_OWNER: "0" },
      "MAX_RUNNERS_PER_OWNER is 0: no runner starts and every job waits (unlimited means no cap)",
    ],
    [
      "DISPATCH_PAUSED=true",
      { DISPATCH_PAUSED: "true" },
      "DISPATCH_PAUSED is true: no new runner starts; jobs wait in the ledger",
    ],
    [
      "RECOVER_LOST_DELIVERIES=false",
      { RECOVER_LOST_DELIVERIES: "false" },
      "RECOVER_LOST_DELIVERIES is false: deliveries GitHub failed to make are not looked for",
    ],
    [
      "ALLOW_PUBLIC_REPOS=true",
      { ALLOW_PUBLIC_REPOS: "true" },
      "ALLOW_PUBLIC_REPOS is true: pull requests from forks of public repositories can run on your runners",
    ],
    [
      "MODAL_PRICE_GPU_SECOND without SANDBOX_GPU",
      { MODAL_PRICE_GPU_SECOND: "0.001" },
      "MODAL_PRICE_GPU_SECOND is set but SANDBOX_GPU is not: it prices SANDBOX_GPU's type only, so it is ignored",
    ],
  ])("warns about %s", (_label, vars, warning) => {
    const warnings = warningsOf(withVars(vars));
    expect(warnings).toContain(warning);
    expect([...warnings].sort()).toEqual([...ALWAYS, warning].sort());
  });

  it("drops the allowlist and operator warnings once they are set", () => {
    const workerEnv = withVars({ ALLOWED_REPOS: "acme/api", STATUS_TOKEN: "a-status-token-0123456789" });
    expect(warningsOf(workerEnv)).toEqual([]);
  });

  it("says nothing of MAX_RUNNERS_PER_OWNER=unlimited or a cap above 0", () => {
    expect(warningsOf(withVars({ MAX_RUNNERS_PER_OWNER: "unlimited" }))).toEqual(ALWAYS);
    expect(warningsOf(withVars({ MAX_RUNNERS_PER_OWNER: "1" }))).toEqual(ALWAYS);
  });
});
