/**
 * `GET /healthz`: 200 when every variable parses, else 503 with the problems — names and rules, never values —
 * and the configuration's warnings, if any. It calls nothing upstream.
 *
 * `GET /healthz?deep=1` also proves the credentials (src/checks/): 200 `{ ok, checkedAt, cached, checks }` when
 * every check passes, else 503 naming the checks that failed and what to fix. Runs are cached a minute per
 * isolate, so asking more often answers from the cache instead of calling GitHub and Modal again.
 */
import type { Context } from "hono";
import { cachedChecks } from "../checks/cache.ts";
import { allWarnings } from "../checks/warnings.ts";
import { runChecks } from "../checks/run.ts";
import { describeProblems, loadConfig } from "../config.ts";
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

    const { report, cached } = await cachedChecks(config, options.now(), () =>
      runChecks(c.env, config, { fetch: options.fetch, now: options.now, logger: c.var.log }),
    );
    if (!cached) {
      for (const check of report.checks.filter((entry) => !entry.ok)) {
        c.var.log.warn("health check failed", { check: check.name, detail: check.detail });
      }
    }
    return c.json(
      { ok: report.ok, checkedAt: report.checkedAt, cached, ...extras, checks: report.checks },
      report.ok ? 200 : 503,
    );
  };
}
