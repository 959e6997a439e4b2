/**
 * `GET /healthz`: 200 when every variable parses, else 503 with the problems — names and rules, never values —
 * and the configuration's warnings, if any. It calls nothing upstream.
 *
 * `GET /healthz?deep=1` also proves the credentials (src/checks/): 200 `{ ok, checkedAt, cached, checks }` when
 * every check passes, else 503 naming the checks that failed and what to fix. Runs are cached a minute per
 * isolate, so asking more often answers from the cache instead of calling GitHub and Modal again. The status
 * page shows the same checks (and runs them when the minute's result is missing); `/api/status` shows the last.
 */
import type { Context } from "hono";
import { cachedChecks } from "../checks/cache.ts";
import type { CheckDeps } from "../checks/check.ts";
import { runChecks } from "../checks/run.ts";
import { allWarnings } from "../checks/warnings.ts";
import { type Config, describeProblems, loadConfig } from "../config.ts";
import type { AppEnv } from "./context.ts";

export interface HealthOptions {
  now: () => number;
  /** For the deep checks' calls to GitHub and Modal. */
  fetch: typeof fetch;
}

/** `?deep`, `?deep=1`, `?deep=true`: anything but an explicit no. */
function wantsDeep(value: string | undefined): boolean {
  return value !== undefined && !/^(0|false|no)$/i.test(value);
}

/** The deep checks, from the minute's cache or run now (and a failure logged once per run). */
export async function deepChecks(env: Env, config: Config, deps: CheckDeps) {
  const result = await cachedChecks(config, deps.now(), () => runChecks(env, config, deps));
  if (!result.cached) {
    for (const check of result.report.checks.filter((entry) => !entry.ok)) {
      deps.logger.warn("health check failed", { check: check.name, detail: check.detail });
    }
  }
  return result;
}

export function createHealthHandler(options: HealthOptions) {
  return async (c: Context<AppEnv>) => {
    const config = loadConfig(c.env);
    const warnings = await allWarnings(c.env, config);
    const problems = describeProblems(config.problems);
    const extras = {
      ...(problems.length === 0 ? {} : { problems }),
      ...(warnings.length === 0 ? {} : { warnings }),
    };
    if (!wantsDeep(c.req.query("deep"))) {
      if (problems.length === 0) return c.json({ ok: true, ...extras });
      c.var.log.warn("configuration invalid", { problems });
      return c.json({ ok: false, ...extras }, 503);
    }

    const { report, cached } = await deepChecks(c.env, config, {
      fetch: options.fetch,
      now: options.now,
      logger: c.var.log,
    });
    return c.json(
      { ok: report.ok, checkedAt: report.checkedAt, cached, ...extras, checks: report.checks },
      report.ok ? 200 : 503,
    );
  };
}
