/**
 * The pace of JIT registrations for one GitHub credential: a token bucket in its GCRA form (a "theoretical arrival
 * time" that each grant pushes one interval ahead), with reservations, a limit GitHub announced, and a probe.
 *
 * - Within the burst, a take is granted at once. Past it, the taker gets a reservation: a slot of its own, one
 *   interval after the previous one, and waits for it in the ledger — so a crowd of waiting jobs comes back spread
 *   out, each exactly once, instead of all together in the same second.
 * - When GitHub announces a limit (`retry-after`, `x-ratelimit-remaining: 0` until `x-ratelimit-reset`, a
 *   secondary-limit refusal), nothing is granted before it ends; reservations made earlier become invalid (the
 *   generation moves on); the bucket is full again (less the probe) `PROBE_WAIT_MS` after the limit ends.
 * - The first request after a limit is a probe; the others wait `PROBE_WAIT_MS` after it was granted (and their
 *   pace). A probe that meets the limit again announces it before they go, moving the generation on, so a limit
 *   still in force costs one call per window, not one per waiting job.
 *
 * Pure: the state goes in and comes out, the clock is an argument. github-budget.ts keeps it in a Durable Object.
 */
export interface PacingState {
  /** GCRA's theoretical arrival time (ms): the bucket is full when it is ≤ now − tolerance. */
  tat: number;
  limitedUntil: number;
  /** Moves on with every announced limit: reservations carry the generation they were made in. */
  generation: number;
  /** After a limit: `pending` until a probe is chosen, `chosen` until it ran and succeeded (then `none`). */
  probe: "none" | "pending" | "chosen";
  /** When the chosen probe was given its slot or went out. */
  probeAt: number;
  /** When the last paced call was let go, and the slot it held: late holders of neighbouring slots still go one
   * interval apart, while holders of one slot (the burst after a limit) go together. */
  lastGrantAt: number;
  lastGrantSlot: number;
}

export interface PacingRate {
  perHour: number;
  burst: number;
}

export interface Reservation {
  slot: number;
  generation: number;
  probe: boolean;
}

export type TakeResult =
  /** `notBefore`: a reservation honoured up to `SLOT_SLACK_MS` early — the call waits for its slot. */
  | {
      granted: true;
      probe: boolean;
      notBefore?: number;
      /** The probe's: the limit it probes. */
      generation?: number;
    }
  | { granted: false; reservation: Reservation; reason: "paced" | "limited" };

/** A reservation is honoured this much early: queue delays are whole seconds. */
export const SLOT_SLACK_MS = 1_000;
/** After a limit, everyone but the probe waits this much longer. */
export const PROBE_WAIT_MS = 5_000;
/** A probe that never reported back lets another one go after this long. */
export const PROBE_TIMEOUT_MS = 60_000;

export const INITIAL_PACING: PacingState = {
  tat: 0,
  limitedUntil: 0,
  generation: 0,
  probe: "none",
  probeAt: 0,
  lastGrantAt: 0,
  lastGrantSlot: 0,
};

function intervalOf(rate: PacingRate): number {
  return 3_600_000 / Math.max(rate.perHour, 1);
}

function toleranceOf(rate: PacingRate): number {
  return (Math.max(rate.burst, 1) - 1) * intervalOf(rate);
}

export function take(
  state: PacingState,
  now: number,
  rate: PacingRate,
  reservation?: Reservation,
): { state: PacingState; result: TakeResult } {
  const next = { ...state };
  if (next.probe === "chosen" && now > next.probeAt + PROBE_TIMEOUT_MS) next.probe = "pending";
  const limited = now < next.limitedUntil;

  const interval = intervalOf(rate);
  // A job back at its slot: it was counted when the slot was given. Queue delays are whole seconds, so holders of
  // neighbouring slots arrive together, or late: each still goes one interval after the one before. A slot of this
  // generation was given knowing of the current limit, so it is never before the limit's end — one that arrives
  // early while the limit holds (the probe's, due at the very end) waits for it like any other early slot; turned
  // away, the probe would hold everyone until PROBE_TIMEOUT_MS.
  if (reservation !== undefined && reservation.generation === next.generation) {
    const at = Math.max(
      next.limitedUntil,
      reservation.slot === next.lastGrantSlot
        ? reservation.slot
        : Math.max(reservation.slot, next.lastGrantAt + interval),
    );
    if (at > now + SLOT_SLACK_MS) {
      return {
        state: next,
        result: {
          granted: false,
          reservation: { ...reservation, slot: at },
          reason: limited ? "limited" : "paced",
        },
      };
    }
    const wait = at > now ? { notBefore: at } : {};
    if (next.probe === "none" || reservation.probe) {
      if (reservation.probe) {
        next.probe = "chosen";
        // When it goes, not when it asked: an early probe waits for its slot, and others wait for its answer.
        next.probeAt = Math.max(now, at);
      }
      next.lastGrantAt = Math.max(now, at);
      next.lastGrantSlot = reservation.slot;
      const probed = reservation.probe ? { generation: next.generation } : {};
      return { state: next, result: { granted: true, probe: reservation.probe, ...wait, ...probed } };
    }
  }

  let earliest = Math.max(now, next.limitedUntil);
  let probe = false;
  if (next.probe === "pending") {
    next.probe = "chosen";
    next.probeAt = earliest;
    probe = true;
  } else if (next.probe === "chosen") {
    earliest = Math.max(earliest, next.probeAt + PROBE_WAIT_MS);
  }
  const slot = probe ? earliest : Math.max(earliest, next.tat - toleranceOf(rate));
  next.tat = Math.max(next.tat, slot) + interval;
  if (slot <= now) {
    next.lastGrantAt = now;
    next.lastGrantSlot = slot;
    return {
      state: next,
      result: { granted: true, probe, ...(probe ? { generation: next.generation } : {}) },
    };
  }
  return {
    state: next,
    result: {
      granted: false,
      reservation: { slot, generation: next.generation, probe },
      reason: limited || probe || next.probe === "chosen" ? "limited" : "paced",
    },
  };
}

/** GitHub said: nothing more until `until`. */
export function limited(state: PacingState, until: number): PacingState {
  if (until <= state.limitedUntil) return state;
  // The bucket is full again when the probe's wait ends (GitHub's window drained meanwhile) — full less the probe,
  // which is one of the window's calls too: a burst of `burst` would overshoot the window by one.
  return {
    tat: until + PROBE_WAIT_MS,
    limitedUntil: until,
    generation: state.generation + 1,
    probe: "pending",
    probeAt: 0,
    lastGrantAt: state.lastGrantAt,
    lastGrantSlot: state.lastGrantSlot,
  };
}

/**
 * The probe went through: the limit is over — unless a newer limit was announced while it was in flight (another
 * `generation`), which needs a probe of its own.
 */
export function probeSucceeded(state: PacingState, generation?: number): PacingState {
  if (generation !== undefined && generation !== state.generation) return state;
  return state.probe === "none" ? state : { ...state, probe: "none" };
}
