/**
 * `GET /rate_limit`: the caller's budgets. It spends none of the hourly budget and answers even when that is
 * spent (rate-limits.ts), so it is the cheapest call that proves a credential: a token GitHub refuses gets 401
 * before any route is reached (emulator.ts).
 */
import type { ApiRequest, ApiResponse, Route } from "./api.ts";
import { budgetOfCredential } from "./rate-limits.ts";

/** The search API's budget is its own (30 a minute); the emulator spends none of it. */
const SEARCH = { limit: 30, remaining: 30, used: 0 };

function getRateLimit(request: ApiRequest): ApiResponse {
  const core = budgetOfCredential(request.ns.rateLimits, request.credential, request.now);
  const search = { ...SEARCH, reset: Math.ceil(request.now / 1000) + 60 };
  // `rate` repeats `core`: GitHub deprecated it but still sends it on the API version we ask for.
  return { status: 200, body: { resources: { core, search }, rate: core } };
}

export const META_ROUTES: Route[] = [{ method: "GET", template: "/rate_limit", handle: getRateLimit }];
