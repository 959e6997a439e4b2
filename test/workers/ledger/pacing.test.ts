/** The JIT pace of one credential (src/ledger/pacing.ts), as pure state transitions. */
import { describe, expect, it } from "vitest";
import {
  INITIAL_PACING,
  limited,
  type PacingState,
  PROBE_WAIT_MS,
  probeSucceeded,
  type Reservation,
  take,
} from "../../../src/ledger/pacing.ts";

const RATE = { perHour: 3600, burst: 5 }; // one a second, five at once
const T0 = 1_000_000;

function takeMany(state: PacingState, count: number, now: number) {
  const results = [];
  let current = state;
  for (let index = 0; index < count; index++) {
    const next = take(current, now, RATE);
    current = next.state;
    results.push(next.result);
  }
  return { state: current, results };
}

describe("the pace", () => {
  it("grants a burst at once, then gives each further taker its own slot, one interval apart", () => {
    const { results } = takeMany(INITIAL_PACING, 8, T0);
    expect(results.slice(0, 5).every((result) => result.granted)).toBe(true);
    const slots = results.slice(5).map((result) => (result.granted ? Number.NaN : result.reservation.slot));
    expect(slots).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
    expect(results[5]).toMatchObject({ granted: false, reason: "paced" });
  });

  it("honours a reservation once, at its slot, without counting it again", () => {
    const { state, results } = takeMany(INITIAL_PACING, 6, T0);
    const last = results[5];
    if (last === undefined || last.granted) throw new Error("expected a reservation");
    const early = take(state, last.reservation.slot - 5000, RATE, last.reservation);
    expect(early.result).toEqual({ granted: false, reservation: last.reservation, reason: "paced" });
    const onTime = take(state, last.reservation.slot, RATE, last.reservation);
    expect(onTime.result).toEqual({ granted: true, probe: false });
    expect(onTime.state.tat).toBe(state.tat);
    // Up to a second early (queue delays are whole seconds): granted, to go at its slot.
    const early2 = take(state, last.reservation.slot - 400, RATE, last.reservation);
    expect(early2.result).toEqual({ granted: true, probe: false, notBefore: last.reservation.slot });
  });

  it("refills: after a quiet spell the burst is whole again", () => {
    const { state } = takeMany(INITIAL_PACING, 5, T0);
    const later = takeMany(state, 5, T0 + 60_000);
    expect(later.results.every((result) => result.granted)).toBe(true);
  });
});

describe("a limit GitHub announced", () => {
  it("grants nothing before it ends; then one probe goes first, and the rest wait for it", () => {
    const before = takeMany(INITIAL_PACING, 6, T0);
    const held = before.results[5];
    if (held === undefined || held.granted) throw new Error("expected a reservation");
    const until = T0 + 60_000;
    let state = limited(before.state, until);

    // During the limit: the first taker becomes the probe, at the limit's end; the others after it.
    const probe = take(state, T0 + 10_000, RATE);
    expect(probe.result).toMatchObject({
      granted: false,
      reason: "limited",
      reservation: { slot: until, probe: true },
    });
    state = probe.state;
    const waiting = take(state, T0 + 10_000, RATE);
    expect(waiting.result).toMatchObject({ granted: false, reservation: { probe: false } });
    if (waiting.result.granted) throw new Error("unreachable");
    expect(waiting.result.reservation.slot).toBeGreaterThanOrEqual(until + PROBE_WAIT_MS);
    state = waiting.state;

    // A reservation made before the limit no longer holds.
    const stale = take(state, held.reservation.slot, RATE, held.reservation);
    expect(stale.result.granted).toBe(false);
    state = stale.state;

    // The probe goes at its slot; the waiting one goes once the probe succeeded.
    const probeReservation: Reservation = probe.result.granted
      ? { slot: 0, generation: 0, probe: false }
      : probe.result.reservation;
    const probed = take(state, until, RATE, probeReservation);
    expect(probed.result).toEqual({ granted: true, probe: true, generation: probeReservation.generation });
    state = probeSucceeded(probed.state);
    const after = take(state, waiting.result.reservation.slot, RATE, waiting.result.reservation);
    expect(after.result).toEqual({ granted: true, probe: false });
  });

  it("a probe that succeeds after a newer limit was announced leaves the newer limit's probe to come", () => {
    const first = take(limited(INITIAL_PACING, T0 + 60_000), T0 + 10_000, RATE);
    if (first.result.granted) throw new Error("expected a reservation");
    const probed = take(first.state, T0 + 60_000, RATE, first.result.reservation);
    expect(probed.result).toMatchObject({ granted: true, probe: true });
    // While it was in flight, another call learnt of a longer limit.
    const newer = limited(probed.state, T0 + 180_000);
    const after = probeSucceeded(newer, first.result.reservation.generation);
    expect(after.probe).toBe("pending");
    expect(probeSucceeded(newer, newer.generation).probe).toBe("none");
  });

  it("the probe delivered up to a second early is still the probe: it goes at the limit's end", () => {
    const until = T0 + 60_000;
    const probe = take(limited(INITIAL_PACING, until), T0 + 10_000, RATE);
    if (probe.result.granted) throw new Error("expected a reservation");
    // Queue delays are whole seconds, rounded: the probe's message can arrive before the limit has ended. Were it
    // turned away, the others would wait for a probe that never goes, until PROBE_TIMEOUT_MS.
    const early = take(probe.state, until - 400, RATE, probe.result.reservation);
    expect(early.result).toEqual({
      granted: true,
      probe: true,
      notBefore: until,
      generation: probe.result.reservation.generation,
    });
    // Others wait for its answer from when it goes, not from when it asked.
    expect(early.state.probeAt).toBe(until);
    const tooEarly = take(probe.state, until - 5000, RATE, probe.result.reservation);
    expect(tooEarly.result).toMatchObject({ granted: false, reservation: { slot: until, probe: true } });
  });

  it("a longer limit learnt later moves the end; a shorter one changes nothing", () => {
    const state = limited(INITIAL_PACING, T0 + 60_000);
    expect(limited(state, T0 + 30_000)).toBe(state);
    expect(limited(state, T0 + 90_000)).toMatchObject({ limitedUntil: T0 + 90_000, generation: 2 });
  });
});
