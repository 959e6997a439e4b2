/**
 * Every REST endpoint the emulator serves, one table for the dispatcher (emulator.ts) and for the test that
 * holds each of them to GitHub's OpenAPI description. The handlers live by concept: runner-routes.ts,
 * actions-routes.ts, app-routes.ts, hook-routes.ts, check-run-routes.ts, meta-routes.ts.
 */
import { ACTIONS_ROUTES } from "./actions-routes.ts";
import type { Route } from "./api.ts";
import { APP_ROUTES } from "./app-routes.ts";
import { CHECK_RUN_ROUTES } from "./check-run-routes.ts";
import { HOOK_ROUTES } from "./hook-routes.ts";
import { META_ROUTES } from "./meta-routes.ts";
import { RUNNER_ROUTES } from "./runner-routes.ts";

export type { ApiRequest, ApiResponse, Route } from "./api.ts";

export const ROUTES: Route[] = [
  ...APP_ROUTES,
  ...RUNNER_ROUTES,
  ...ACTIONS_ROUTES,
  ...HOOK_ROUTES,
  ...CHECK_RUN_ROUTES,
  ...META_ROUTES,
];

/** Path parameters GitHub routes only when they are numeric. */
const NUMERIC = ["runner_id", "job_id", "run_id", "installation_id", "hook_id", "delivery_id"];

/** The route and its path parameters, for a path without the namespace and `/api/v3` prefixes. */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = route.template.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
    const match = new RegExp(`^${pattern}/?$`).exec(path);
    if (match === null) continue;
    const params: Record<string, string> = {};
    names.forEach((name, index) => {
      params[name] = decodeURIComponent(match[index + 1] ?? "");
    });
    if (NUMERIC.some((key) => key in params && !/^\d+$/.test(params[key] ?? ""))) continue;
    return { route, params };
  }
  return undefined;
}
