/** `GET /healthz`: 200 when every variable parses, else 503 with the problems — names and rules, never values. */
import type { Context } from "hono";
import { describeProblems, loadConfig } from "../config.ts";
import type { AppEnv } from "./context.ts";

export function healthHandler(c: Context<AppEnv>) {
  const { problems } = loadConfig(c.env);
  if (problems.length === 0) return c.json({ ok: true });
  const described = describeProblems(problems);
  c.var.log.warn("configuration invalid", { problems: described });
  return c.json({ ok: false, problems: described }, 503);
}
