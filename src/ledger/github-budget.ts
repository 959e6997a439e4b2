/**
 * One GitHub credential's budget (a PAT, or an App installation; see `GitHubClient.credentialKey`), in one
 * strongly consistent place: the JIT pace (pacing.ts), any limit GitHub announced, and the share of the hourly
 * budget the reconciler may spend.
 *
 * Cost, accepted: one call to this object per JIT registration (a token bucket cannot be strongly consistent
 * otherwise), plus one per announced limit and one per reconcile cycle. It is per credential — an App's
 * installations each have their own — so its load is bounded by what GitHub itself allows that credential (a
 * few registrations a second at most), and owners on different installations never wait on each other.
 */
import { DurableObject } from "cloudflare:workers";
import * as z from "zod/mini";
import {
  INITIAL_PACING,
  limited,
  type PacingRate,
  type PacingState,
  probeSucceeded,
  type Reservation,
  type TakeResult,
  take,
} from "./pacing.ts";

const PacingStateSchema = z.object({
  tat: z.number(),
  limitedUntil: z.number(),
  generation: z.number(),
  probe: z.enum(["none", "pending", "chosen"]),
  probeAt: z.number(),
  lastGrantAt: z._default(z.number(), 0),
  lastGrantSlot: z._default(z.number(), 0),
});

const HourSchema = z.object({
  /** The hour window's end, as GitHub's `x-ratelimit-reset` gave it (ms). */
  resetAt: z.number(),
  limit: z.number(),
  remaining: z.number(),
  reconcileSpent: z.number(),
});
type Hour = z.infer<typeof HourSchema>;

/** What the reconciler knows of the hourly budget from the responses it saw. */
export interface HourlyObservation {
  limit?: number | undefined;
  remaining?: number | undefined;
  resetAt?: number | undefined;
}

export interface BudgetSnapshot {
  limitedUntil: number;
  probe: PacingState["probe"];
  /** When the bucket would grant again: now or later. */
  nextGrantAt: number;
  hour: Hour | undefined;
}

/** GitHub's documented primary limit for a PAT; installations get more. Used until a response says otherwise. */
const DEFAULT_HOURLY_LIMIT = 5_000;
const HOUR_MS = 3_600_000;
const DISPATCH_RESERVE = 0.05;

export class GitHubBudget extends DurableObject<Env> {
  private pacing: PacingState | undefined;
  private hour: Hour | undefined;

  private async load(): Promise<PacingState> {
    if (this.pacing === undefined) {
      const stored = PacingStateSchema.safeParse(await this.ctx.storage.get("pacing"));
      this.pacing = stored.success ? stored.data : INITIAL_PACING;
      const hour = HourSchema.safeParse(await this.ctx.storage.get("hour"));
      this.hour = hour.success ? hour.data : undefined;
    }
    return this.pacing;
  }

  private async save(state: PacingState): Promise<void> {
    this.pacing = state;
    await this.ctx.storage.put("pacing", state);
  }

  /** Asks to make one JIT registration now. */
  async take(input: { now: number; rate: PacingRate; reservation?: Reservation }): Promise<TakeResult> {
    const { state, result } = take(await this.load(), input.now, input.rate, input.reservation);
    await this.save(state);
    return result;
  }

  /** A call learnt that GitHub will refuse this credential until `until`. */
  async limited(input: { until: number }): Promise<void> {
    await this.save(limited(await this.load(), input.until));
  }

  /** Whether no limit is announced at `now` (asked again after waiting for a paced slot). */
  async clear(now: number): Promise<boolean> {
    return now >= (await this.load()).limitedUntil;
  }

  /** The probe of the limit `generation` was answered with anything but a rate limit. */
  async probeDone(generation?: number): Promise<void> {
    await this.save(probeSucceeded(await this.load(), generation));
  }

  /**
   * How many of `want` GitHub calls the reconciler may make now: at most `percent` of the hour's budget, none
   * while a limit is announced, none from the last 5 % of the hour (kept for dispatch).
   */
  async grantReconcile(input: {
    now: number;
    want: number;
    percent: number;
    observed: HourlyObservation;
  }): Promise<number> {
    const pacing = await this.load();
    if (input.now < pacing.limitedUntil) return 0;
    const { observed } = input;
    let hour = this.hour;
    const resetAt = observed.resetAt ?? hour?.resetAt ?? input.now + HOUR_MS;
    if (hour === undefined || resetAt > hour.resetAt || input.now >= hour.resetAt) {
      hour = {
        resetAt: input.now >= resetAt ? input.now + HOUR_MS : resetAt,
        limit: observed.limit ?? hour?.limit ?? DEFAULT_HOURLY_LIMIT,
        remaining: observed.remaining ?? observed.limit ?? hour?.limit ?? DEFAULT_HOURLY_LIMIT,
        reconcileSpent: 0,
      };
    } else {
      hour = {
        ...hour,
        limit: observed.limit ?? hour.limit,
        remaining: Math.min(hour.remaining, observed.remaining ?? hour.remaining),
      };
    }
    const share = Math.floor((hour.limit * input.percent) / 100);
    const byShare = share - hour.reconcileSpent;
    // The last few percent of an hour are dispatch's: a registration matters more than a check.
    const byRemaining = hour.remaining - Math.ceil(hour.limit * DISPATCH_RESERVE);
    const granted = Math.max(0, Math.min(input.want, byShare, byRemaining));
    hour = { ...hour, reconcileSpent: hour.reconcileSpent + granted, remaining: hour.remaining - granted };
    this.hour = hour;
    await this.ctx.storage.put("hour", hour);
    return granted;
  }

  async snapshot(now: number, rate: PacingRate): Promise<BudgetSnapshot> {
    const pacing = await this.load();
    const tolerance = (Math.max(rate.burst, 1) - 1) * (HOUR_MS / Math.max(rate.perHour, 1));
    return {
      limitedUntil: pacing.limitedUntil,
      probe: pacing.probe,
      nextGrantAt: Math.max(now, pacing.limitedUntil, pacing.tat - tolerance),
      hour: this.hour,
    };
  }
}

/** The budget object of a credential key (never a secret: see `GitHubClient.credentialKey`). */
export function budgetFor(
  namespace: DurableObjectNamespace<GitHubBudget>,
  credential: string,
): DurableObjectStub<GitHubBudget> {
  return namespace.get(namespace.idFromName(credential));
}
