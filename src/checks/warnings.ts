/**
 * Every warning of the configuration, for /healthz and the status page: the synchronous rules of
 * config/warnings.ts, and whether the App's private key can sign (async, so it cannot be one of them).
 */

import { configWarnings } from "../config/warnings.ts";
import type { Config } from "../config.ts";
import { appKeyProblem } from "./private-key.ts";

export async function allWarnings(env: Env, config: Config): Promise<string[]> {
  const warnings = configWarnings(env, config);
  const auth = config.dispatch.ok ? config.dispatch.value.github.auth : undefined;
  const problem = auth?.kind === "app" ? await appKeyProblem(auth) : undefined;
  if (problem !== undefined) {
    warnings.push(
      `${problem}: every GitHub App call fails until it holds the private key GitHub generated for the App`,
    );
  }
  return warnings;
}
