/** `bench:dispatch --rate-limit`: the limit's notation, the pace and timeout derived from it, and the verdict. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../scripts/lib/cli.ts";
import {
  defaultJitBurst,
  defaultJitRatePerHour,
  floorSeconds,
  judge,
  parseRateLimit,
  type RateLimitOutcome,
  timeoutSeconds,
} from "../../scripts/lib/rate-limit-bench.ts";

const SPEC = { limit: 80, windowSeconds: 60 };
const CLEAN: RateLimitOutcome = {
  jobs: 1000,
  jobsWithSandbox: 1000,
  duplicates: 0,
  deadLettered: 0,
  refusals: 12,
  duringAnnouncedLimit: 0,
  elapsedMs: 760_000,
};

describe("--rate-limit", () => {
  it("reads calls per seconds, and refuses anything else as a usage mistake", () => {
    expect(parseRateLimit("80/60s")).toEqual(SPEC);
    expect(parseRateLimit("5/0.5s")).toEqual({ limit: 5, windowSeconds: 0.5 });
    for (const text of ["80/60", "80/min", "0/60s", "/60s", "80/0s", "-1/60s"])
      expect(() => parseRateLimit(text)).toThrow(UsageError);
  });

  it("paces at twice the limit with a burst under it, and waits twice the limit's floor and a margin", () => {
    expect(defaultJitRatePerHour(SPEC)).toBe(9600);
    expect(defaultJitBurst(SPEC)).toBe(60);
    expect(defaultJitBurst({ limit: 1, windowSeconds: 1 })).toBe(1);
    expect(floorSeconds(1000, SPEC)).toBe(750);
    expect(timeoutSeconds(1000, SPEC)).toBe(1620);
  });
});

describe("the verdict", () => {
  it("passes a run with no call into a limit and one refusal per window", () => {
    // 760 s is 13 windows: 14 refusals allowed.
    expect(judge({ ...CLEAN, refusals: 14 }, SPEC)).toEqual([]);
  });

  it("fails any call made while told to wait, even one", () => {
    expect(judge({ ...CLEAN, duringAnnouncedLimit: 1 }, SPEC)).toEqual([
      "calls made into an announced limit: 1",
    ]);
  });

  it("fails more than one refusal per window, a duplicate, a dead letter and a job left without a sandbox", () => {
    expect(
      judge({ ...CLEAN, refusals: 15, duplicates: 1, deadLettered: 2, jobsWithSandbox: 997 }, SPEC),
    ).toEqual([
      "403s drawn: 15, more than one per window allows (14)",
      "duplicate sandboxes: 1",
      "jobs dead-lettered or failed: 2",
      "jobs without a sandbox at the timeout: 3",
    ]);
  });
});
