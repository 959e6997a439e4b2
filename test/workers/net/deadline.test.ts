/** One deadline for every upstream call (src/net/deadline.ts): the work is aborted and the caller told, typed. */
import { describe, expect, it } from "vitest";
import { DeadlineExceededError, type StartTimer, withDeadline } from "../../../src/net/deadline.ts";

/** A timer the test fires by hand. */
function manualTimer() {
  const pending: { callback: () => void; ms: number; cancelled: boolean }[] = [];
  const startTimer: StartTimer = (callback, ms) => {
    const entry = { callback, ms, cancelled: false };
    pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };
  return {
    startTimer,
    pending,
    fire: () => {
      for (const entry of pending) if (!entry.cancelled) entry.callback();
    },
  };
}

const never = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted"))));

describe("withDeadline", () => {
  it("answers with the work's result and cancels its timer", async () => {
    const timer = manualTimer();
    await expect(
      withDeadline(async () => 42, { timeoutMs: 1000, startTimer: timer.startTimer }),
    ).resolves.toBe(42);
    expect(timer.pending).toMatchObject([{ ms: 1000, cancelled: true }]);
  });

  it("when the deadline passes, aborts the work's signal and rejects with DeadlineExceededError", async () => {
    const timer = manualTimer();
    let seen: AbortSignal | undefined;
    const running = withDeadline(
      (signal) => {
        seen = signal;
        return never(signal);
      },
      { timeoutMs: 250, startTimer: timer.startTimer },
    );
    timer.fire();
    const error = await running.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ timeoutMs: 250, message: "no answer within 250 ms" });
    expect(seen?.aborted).toBe(true);
  });

  it("rejects at the deadline even when the work ignores its signal (real timers)", async () => {
    const error = await withDeadline(() => new Promise<never>(() => {}), { timeoutMs: 5 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });

  it("the caller's own abort aborts the work and is not a deadline", async () => {
    const timer = manualTimer();
    const caller = new AbortController();
    const running = withDeadline(never, {
      timeoutMs: 1000,
      signal: caller.signal,
      startTimer: timer.startTimer,
    });
    caller.abort(new Error("shutting down"));
    const error = await running.catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ message: "shutting down" });
    expect(timer.pending[0]?.cancelled).toBe(true);
  });
});
