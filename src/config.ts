/**
 * The configuration: `loadConfig`, its problems and the secret values; each section's schema, with its variables,
 * defaults and inferred types, is in src/config/ (one file per section). Each variable is parsed on its own so that every problem is reported at once, by name,
 * and never with its value. Empty strings count as unset: the dashboard and `.dev.vars` both produce them.
 *
 * Three sections fail independently: without a valid intake section the webhook answers 500; without a valid
 * dispatch section (GitHub auth, Modal credentials) the webhook still accepts jobs, which wait in the ledger until
 * an operator fixes the variables; without a valid operator section the status page and /api answer 500.
 */

import type { DispatchConfig } from "./config/dispatch.ts";
import { dispatchSection } from "./config/dispatch.ts";
import type { IntakeConfig } from "./config/intake.ts";
import { intakeSection } from "./config/intake.ts";
import type { OperatorConfig } from "./config/operator.ts";
import { operatorSection } from "./config/operator.ts";

export interface ConfigProblem {
  variable: string;
  message: string;
}

export type Section<T> = { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };

export interface Config {
  intake: Section<IntakeConfig>;
  dispatch: Section<DispatchConfig>;
  operator: Section<OperatorConfig>;
  /** Every problem of every section, for `/healthz` and the log. */
  problems: ConfigProblem[];
}

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
