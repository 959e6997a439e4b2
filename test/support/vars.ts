import { env } from "cloudflare:workers";

/** The Worker's string variables and secrets (not its bindings). */
export type Vars = Partial<{ [K in keyof Env as Env[K] extends string ? K : never]: string }>;

/** The test Worker's env with some variables replaced — a new object, so the config cache parses it afresh. */
export function withVars(vars: Vars, base: Env = env): Env {
  return { ...base, ...vars };
}
