/**
 * The reconciler's share of a credential's hourly GitHub budget is charged for what it is granted, not for what
 * it spends, so a cycle must ask for the calls it will make. Found by `npm run bench:reconcile -- --auth token`:
 * removals asked two calls per runner where one (or none) was needed, and the owners served first used up the
 * share while most of it went unspent.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import { createServices } from "../../../src/dispatch/services.ts";
import { LedgerStore } from "../../../src/ledger/store.ts";
import { createLogger } from "../../../src/log.ts";
import { runOwnerCycle } from "../../../src/reconcile/owner-cycle.ts";
import { github } from "../../support/dispatch.ts";
import { dispatched, freshRepository, ledgerOf, MINUTE } from "../../support/lifecycle.ts";

it("asks the GitHub budget for no more calls than the cycle makes", async () => {
  const repository = freshRepository();
  const jobs = [await dispatched(repository), await dispatched(repository), await dispatched(repository)];
  // Cancelled before pickup, the deliveries saying so lost: the cycle learns it from GitHub and removes the three
  // idle runners, whose ids it has had since their JIT registrations — one call each.
  for (const job of jobs) await github().cancelJob(job.message.job.id);

  const config = loadConfig(env);
  if (!config.dispatch.ok) throw new Error("the test Worker is not configured");
  const dispatch = config.dispatch.value;
  const log = createLogger({ sink: () => {} });
  const services = createServices(dispatch, { fetch, now: Date.now, logger: log });
  const asked: number[] = [];
  const report = await runInDurableObject(ledgerOf(repository), (_instance, state) =>
    runOwnerCycle({
      owner: repository.split("/")[0] ?? "",
      store: new LedgerStore(state.storage.sql, {
        stuckMs: dispatch.lifecycle.stuckJobSeconds * 1000,
        orphanGraceMs: dispatch.lifecycle.orphanGraceSeconds * 1000,
        runnerLifetimeMs: dispatch.runner.timeoutSeconds * 1000,
      }),
      lifecycle: dispatch.lifecycle,
      scopeKind: dispatch.github.runnerScope,
      github: services.github,
      sandboxes: services.sandboxes,
      appId: () => services.sandboxes.ensureApp(dispatch.modal.appName, dispatch.modal.environment),
      grant: async (_installationId, want) => {
        asked.push(want);
        return want;
      },
      send: async () => {},
      now: Date.now() + 4 * MINUTE,
      log,
    }),
  );

  expect(report.retired).toHaveLength(3);
  expect(report.errors).toEqual([]);
  expect(asked.reduce((sum, want) => sum + want, 0)).toBe(report.githubCalls);
});
