/**
 * The reconciler's share of a credential's hourly GitHub budget is charged for what it is granted, not for what
 * it spends, so a cycle must ask for the calls it will make. Found by `npm run bench:reconcile -- --auth token`:
 * removals asked two calls per runner where one (or none) was needed, and the owners served first used up the
 * share while most of it went unspent; the cron asked 13 calls per hook and 12 per allowlisted repository however
 * few it made.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import { createServices } from "../../../src/dispatch/services.ts";
import { controlFor } from "../../../src/ledger/control.ts";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { LedgerStore } from "../../../src/ledger/store.ts";
import { createLogger } from "../../../src/log.ts";
import { recoverLostDeliveries } from "../../../src/reconcile/deliveries.ts";
import { runOwnerCycle } from "../../../src/reconcile/owner-cycle.ts";
import { findUnknownQueuedJobs } from "../../../src/reconcile/scan.ts";
import { github } from "../../support/dispatch.ts";
import { dispatched, freshRepository, ledgerOf, MINUTE, queuedMessage } from "../../support/lifecycle.ts";
import { withVars } from "../../support/vars.ts";
import { workflowJob } from "../../support/webhook.ts";

/** The Worker's services, and a grant that gives what is asked and remembers it. */
function countingWorker(vars: Parameters<typeof withVars>[0] = {}) {
  const config = loadConfig(withVars(vars));
  if (!config.dispatch.ok || !config.intake.ok) throw new Error("the test Worker is not configured");
  const dispatch = config.dispatch.value;
  const log = createLogger({ sink: () => {} });
  const services = createServices(dispatch, { fetch, now: Date.now, logger: log });
  const asked: number[] = [];
  const grant = async (_client: unknown, want: number) => {
    asked.push(want);
    return want;
  };
  return {
    dispatch,
    intake: config.intake.value,
    services,
    log,
    grant,
    asked: () => asked.reduce((a, b) => a + b, 0),
  };
}

it("asks the GitHub budget for no more calls than the cycle makes", async () => {
  const repository = freshRepository();
  const jobs = [await dispatched(repository), await dispatched(repository), await dispatched(repository)];
  // Cancelled before pickup, the deliveries saying so lost: the cycle learns it from GitHub and removes the three
  // idle runners, whose ids it has had since their JIT registrations — one call each.
  for (const job of jobs) await github().cancelJob(job.message.job.id);

  const worker = countingWorker();
  const { dispatch, services, log } = worker;
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
      grant: worker.grant,
      send: async () => {},
      now: Date.now() + 4 * MINUTE,
      log,
    }),
  );

  expect(report.retired).toHaveLength(3);
  expect(report.errors).toEqual([]);
  expect(worker.asked()).toBe(report.githubCalls);
});

describe("the cron asks for the calls it makes", () => {
  it("lost deliveries: one per page listed and one per redelivery, nothing for a hook with nothing failed", async () => {
    const repository = freshRepository();
    const quiet = await github().createHook({ kind: "repository", repository });
    await github().sendDelivery(quiet, {
      event: "workflow_job",
      payload: workflowJob("queued", { repository }),
      statusCode: 202,
    });
    const failing = await github().createHook({ kind: "repository", repository });
    await github().sendDelivery(failing, {
      event: "workflow_job",
      payload: workflowJob("queued", { repository }),
      statusCode: 502,
    });
    const control = controlFor(env.CONTROL, `test-${crypto.randomUUID()}`);
    for (const hookId of [quiet, failing]) {
      await control.seeHook({
        kind: "repository",
        hookId,
        target: repository,
        owner: repository.split("/")[0] ?? "",
        installationId: null,
        now: Date.now(),
      });
    }
    const cron = countingWorker();
    const report = await recoverLostDeliveries({
      control,
      github: cron.services.github,
      grant: cron.grant,
      now: Date.now(),
      log: cron.log,
    });
    expect(report.redelivered).toHaveLength(1);
    expect(report.githubCalls).toBe(3);
    expect(cron.asked()).toBe(report.githubCalls);
  });

  it("the scan of allowlisted repositories: two listings, then one per run found", async () => {
    const [empty, busy] = [freshRepository(), freshRepository()];
    const lost = queuedMessage(busy);
    await github().seed({
      jobs: [
        {
          id: lost.job.id,
          repository: busy,
          status: "queued",
          labels: ["self-hosted", "modal"],
          runId: lost.job.runId,
        },
      ],
    });
    const cron = countingWorker({ ALLOWED_REPOS: `${empty},${busy}` });
    const report = await findUnknownQueuedJobs({
      intake: cron.intake,
      github: cron.services.github,
      clientFor: async () => cron.services.github,
      ledger: (owner) => ledgerFor(env.LEDGER, owner),
      grant: cron.grant,
      send: async () => {},
      now: Date.now(),
      log: cron.log,
    });
    expect(report.found).toEqual([{ jobId: lost.job.id, repository: busy }]);
    expect(report.githubCalls).toBe(2 + 3);
    expect(cron.asked()).toBe(report.githubCalls);
  });
});
