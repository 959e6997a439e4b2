/**
 * The deep checks' one-minute cache on its own: a run that threw is not kept for the minute (the next ask runs
 * again), and the last finished run stays for the status page meanwhile.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { cachedChecks, lastChecks } from "../../../src/checks/cache.ts";
import type { CheckReport } from "../../../src/checks/check.ts";
import { loadConfig } from "../../../src/config.ts";

const report = (checkedAt: string): CheckReport => ({ ok: true, checkedAt, checks: [] });

it("runs again after a run that threw, and keeps the last finished one meanwhile", async () => {
  const config = loadConfig(env);
  const t0 = Date.now();
  const first = await cachedChecks(config, t0, async () => report("first"));
  expect(first).toEqual({ report: report("first"), cached: false });

  await expect(
    cachedChecks(config, t0 + 61_000, () => Promise.reject(new Error("a bug in a check"))),
  ).rejects.toThrow("a bug in a check");
  expect(lastChecks(config)).toEqual(report("first"));

  const again = await cachedChecks(config, t0 + 62_000, async () => report("again"));
  expect(again).toEqual({ report: report("again"), cached: false });
});
