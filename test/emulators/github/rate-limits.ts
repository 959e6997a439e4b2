/**
 * GitHub's two rate limits, kept per credential as GitHub keeps them (a PAT, an installation, an App's JWTs and
 * anonymous callers each spend their own budget):
 * - primary: an hourly budget, counted down in `x-ratelimit-*`; at 0, a 403 until `x-ratelimit-reset`;
 * - secondary (opt-in by seed): at most `limit` accepted calls of some routes in a rolling window; the call over
 *   it gets GitHub's 403 with `retry-after`, and so does every call of those routes until that time has passed.
 *
 * A refusal "announces" a limit until its reset or retry-after; every call that arrives before then is counted
 * (`duringAnnouncedLimit`): a well-behaved client makes none.
 */
import { errorBody } from "./bodies.ts";

export interface Budget {
  limit: number;
  remaining: number;
  /** Milliseconds since the epoch (emulator clock); 0 until the first call starts the hour. */
  resetAt: number;
}

export interface SecondaryLimit {
  limit: number;
  windowMs: number;
  retryAfterSeconds: number;
  /** `METHOD /template` of the routes it applies to. */
  routes: string[];
}

export interface UsageRecord {
  budget: Budget;
  /** Calls let through both limits. */
  accepted: number;
  primaryRefusals: number;
  secondaryRefusals: number;
  /** Calls (of any route) made while a refusal told this credential to wait. */
  duringAnnouncedLimit: number;
  /** When accepted calls of the limited routes were made, pruned to the window. */
  recent: number[];
  /** Until when the last refusal told this credential to wait (ms); 0 when none did. */
  limitedUntil: number;
}

export interface RateLimits {
  /** Every credential's budget when it first calls (the seed's `rateLimit`). */
  start: Budget;
  secondary: SecondaryLimit | undefined;
  /** By credential name: `pat:<16 hex of SHA-256>`, `installation:<id>`, `app:<id>`, `anonymous`. */
  usage: Map<string, UsageRecord>;
}

export type Admission =
  | { ok: true; headers: Record<string, string>; duringAnnouncedLimit: boolean }
  | {
      ok: false;
      status: number;
      headers: Record<string, string>;
      body: unknown;
      duringAnnouncedLimit: boolean;
    };

const HOUR_MS = 3_600_000;
const PRIMARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
const SECONDARY_DOCS =
  "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

export function createRateLimits(): RateLimits {
  return { start: { limit: 5000, remaining: 5000, resetAt: 0 }, secondary: undefined, usage: new Map() };
}

/** The name GitHub's budgets are kept under; a PAT is named by a hash, never by itself. */
export async function credentialName(
  kind: "none" | "pat" | "installation" | "app",
  detail: { token?: string; installationId?: number; appId?: number },
): Promise<string> {
  if (kind === "installation") return `installation:${detail.installationId}`;
  if (kind === "app") return `app:${detail.appId}`;
  if (kind === "pat") {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(detail.token ?? ""));
    const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
    return `pat:${hex.slice(0, 16)}`;
  }
  return "anonymous";
}

function usageOf(limits: RateLimits, credential: string): UsageRecord {
  let usage = limits.usage.get(credential);
  if (usage === undefined) {
    usage = {
      budget: { ...limits.start },
      accepted: 0,
      primaryRefusals: 0,
      secondaryRefusals: 0,
      duringAnnouncedLimit: 0,
      recent: [],
      limitedUntil: 0,
    };
    limits.usage.set(credential, usage);
  }
  return usage;
}

function budgetHeaders(budget: Budget): Record<string, string> {
  return {
    "x-ratelimit-limit": String(budget.limit),
    "x-ratelimit-remaining": String(budget.remaining),
    "x-ratelimit-used": String(budget.limit - budget.remaining),
    "x-ratelimit-reset": String(Math.ceil(budget.resetAt / 1000)),
    "x-ratelimit-resource": "core",
  };
}

/** An hour's budget starts with the first call after the last one ended. */
function refill(budget: Budget, now: number): void {
  if (now < budget.resetAt) return;
  budget.remaining = budget.limit;
  budget.resetAt = now + HOUR_MS;
}

/** The headers of an answer that spent nothing (an injected failure), for the credential's budget as it is. */
export function currentHeaders(limits: RateLimits, credential: string, now: number): Record<string, string> {
  const { budget } = usageOf(limits, credential);
  refill(budget, now);
  return budgetHeaders(budget);
}

/**
 * Routes that spend nothing of the hourly budget and answer even when it is spent. GitHub's docs for
 * `GET /rate_limit`: "Accessing this endpoint does not count against your REST API rate limit" (its secondary
 * limits still apply, since 2023).
 */
const FREE_ROUTES: ReadonlySet<string> = new Set(["GET /rate_limit"]);

/**
 * Spends one call of `credential`'s budget, or refuses it. `who` is how GitHub's primary message names the
 * caller (`installation ID 7`, `user ID 1`); `requestId` goes into the secondary message, as GitHub puts it there.
 */
export function admit(
  limits: RateLimits,
  call: { credential: string; route: string | null; now: number; who: string; requestId: string },
): Admission {
  const { now } = call;
  const usage = usageOf(limits, call.credential);
  const duringAnnouncedLimit = now < usage.limitedUntil;
  if (duringAnnouncedLimit) usage.duringAnnouncedLimit += 1;

  const { budget } = usage;
  refill(budget, now);
  const free = call.route !== null && FREE_ROUTES.has(call.route);
  if (budget.remaining <= 0 && !free) {
    usage.primaryRefusals += 1;
    usage.limitedUntil = Math.max(usage.limitedUntil, budget.resetAt);
    return {
      ok: false,
      status: 403,
      headers: budgetHeaders(budget),
      body: errorBody(403, `API rate limit exceeded for ${call.who}.`, PRIMARY_DOCS),
      duringAnnouncedLimit,
    };
  }
  if (!free) budget.remaining -= 1;

  const secondary = limits.secondary;
  if (secondary !== undefined && call.route !== null && secondary.routes.includes(call.route)) {
    usage.recent = usage.recent.filter((at) => at > now - secondary.windowMs);
    const waiting = now < usage.limitedUntil;
    if (waiting || usage.recent.length >= secondary.limit) {
      if (!waiting) usage.limitedUntil = now + secondary.retryAfterSeconds * 1000;
      usage.secondaryRefusals += 1;
      const message = `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${call.requestId}.`;
      return {
        ok: false,
        status: 403,
        headers: {
          ...budgetHeaders(budget),
          "retry-after": String(Math.max(1, Math.ceil((usage.limitedUntil - now) / 1000))),
        },
        body: errorBody(403, message, SECONDARY_DOCS),
        duringAnnouncedLimit,
      };
    }
    usage.recent.push(now);
  }
  usage.accepted += 1;
  return { ok: true, headers: budgetHeaders(budget), duringAnnouncedLimit };
}

/** A credential's budget as `GET /rate_limit` reports it (GitHub's `rate-limit` object). */
export function budgetOfCredential(limits: RateLimits, credential: string, now: number) {
  const { budget } = usageOf(limits, credential);
  refill(budget, now);
  return {
    limit: budget.limit,
    remaining: budget.remaining,
    reset: Math.ceil(budget.resetAt / 1000),
    used: budget.limit - budget.remaining,
  };
}

/** What `GET /_emulator/rate-limits` reports. */
export function usageReport(limits: RateLimits) {
  return [...limits.usage.entries()].map(([credential, usage]) => ({
    credential,
    accepted: usage.accepted,
    secondaryRefusals: usage.secondaryRefusals,
    duringAnnouncedLimit: usage.duringAnnouncedLimit,
    primaryRefusals: usage.primaryRefusals,
    remaining: usage.budget.remaining,
    limit: usage.budget.limit,
    resetAt: usage.budget.resetAt,
  }));
}
