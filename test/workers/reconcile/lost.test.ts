/**
 * Rule 4 — lost deliveries — and the cron's sweep for sandboxes no ledger knows. The Cron Trigger's work is driven
 * directly (`createCron` with its own control object per test, an injected clock), against the emulator's hooks,
 * delivery logs and redelivery endpoint, and its runs and jobs.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import { createServices } from "../../../src/dispatch/services.ts";
import { controlFor } from "../../../src/ledger/control.ts";
import { createLogger } from "../../../src/log.ts";
import { createCron } from "../../../src/reconcile/scheduled.ts";
import { github, sandboxes } from "../../support/dispatch.ts";
import {
  eventually,
  freshRepository,
  ledgerOf,
  MINUTE,
  queuedMessage,
  registration,
  sandboxOf,
} from "../../support/lifecycle.ts";
import { withVars } from "../../support/vars.ts";
import { delivery, workflowJob } from "../../support/webhook.ts";

function cronWithOwnControl() {
  const controlName = `test-${crypto.randomUUID()}`;
  let now = Date.now();
  const cron = createCron({ controlName, now: () => now, logSink: () => {} });
  return {
    control: controlFor(env.CONTROL, controlName),
    run: (workerEnv: Env = env) => cron(workerEnv),
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe("rule 4: lost deliveries", () => {
  it("remembers the hook a delivery came from, from GitHub's headers", async () => {
    const repository = freshRepository();
    const hookId = Math.floor(Math.random() * 1_000_000_000);
    const request = await delivery(
      JSON.stringify(workflowJob("queued", { repository, labels: ["ubuntu-latest"] })),
    );
    request.headers.set("x-github-hook-id", String(hookId));
    request.headers.set("x-github-hook-installation-target-type", "repository");
    request.headers.set("x-github-hook-installation-target-id", "1296269");
    const response = await exports.default.fetch(request);
    expect(response.status).toBe(200);
    await eventually(async () => {
      const hook = (await controlFor(env.CONTROL).hooks()).find((candidate) => candidate.hookId === hookId);
      expect(hook).toMatchObject({ kind: "repository", target: repository, owner: repository.split("/")[0] });
    });
  });

  it("redelivers failed workflow_job deliveries — each at most 3 times — and leaves delivered ones alone", async () => {
    const repository = freshRepository();
    const hookId = await github().createHook({ kind: "repository", repository });
    const queued = workflowJob("queued", { repository });
    const failed = await github().sendDelivery(hookId, {
      event: "workflow_job",
      payload: queued,
      statusCode: 502,
    });
    const delivered = await github().sendDelivery(hookId, {
      event: "workflow_job",
      payload: workflowJob("queued", { repository }),
      statusCode: 202,
    });
    const ping = await github().sendDelivery(hookId, {
      event: "ping",
      payload: { zen: "Keep it simple." },
      statusCode: 502,
    });
    const cron = cronWithOwnControl();
    await cron.control.seeHook({
      kind: "repository",
      hookId,
      target: repository,
      owner: repository.split("/")[0] ?? "",
      installationId: null,
      now: cron.now(),
    });

    const first = await cron.run();
    expect(first.deliveries?.redelivered.map((entry) => entry.deliveryId)).toEqual([failed.id]);
    // Each redelivery fails again (the hook's target is still down): retried on later cycles, up to three times.
    for (let cycle = 0; cycle < 5; cycle++) {
      cron.advance(5 * MINUTE);
      await cron.run();
    }
    await github().settleDeliveries();
    const log = await github().hookDeliveries(hookId);
    expect(log.filter((entry) => entry.guid === failed.guid && entry.redelivery)).toHaveLength(3);
    expect(log.filter((entry) => entry.guid === delivered.guid)).toHaveLength(1);
    expect(log.filter((entry) => entry.guid === ping.guid)).toHaveLength(1);
    const attempts = (await github().requests()).filter(
      (request) => request.route?.endsWith("/attempts") === true,
    );
    expect(attempts.filter((request) => request.path.includes(`/hooks/${hookId}/`))).toHaveLength(3);
  });

  it("dispatches a queued job of an allowlisted repository that no delivery announced, once", async () => {
    const repository = freshRepository();
    const lost = queuedMessage(repository);
    const runId = Math.floor(Math.random() * 1_000_000_000);
    await github().seed({
      jobs: [
        { id: lost.job.id, repository, status: "queued", labels: ["self-hosted", "modal"], runId },
        { id: lost.job.id + 1, repository, status: "queued", labels: ["ubuntu-latest"], runId },
      ],
    });
    const cron = cronWithOwnControl();
    const allowlisted = withVars({ ALLOWED_REPOS: repository });
    const report = await cron.run(allowlisted);
    expect(report.scan?.found).toEqual([{ jobId: lost.job.id, repository }]);
    await eventually(async () => {
      expect(await ledgerOf(repository).getJob(lost.job.id)).toMatchObject({ state: "started" });
      expect((await sandboxOf(`modal-${lost.job.id}-1`))?.running).toBe(true);
    });
    cron.advance(5 * MINUTE);
    expect((await cron.run(allowlisted)).scan?.found).toEqual([]);
  });

  it("can be switched off", async () => {
    const cron = cronWithOwnControl();
    const report = await cron.run(withVars({ RECOVER_LOST_DELIVERIES: "false" }));
    expect(report.deliveries).toBeUndefined();
    expect(report.scan).toBeUndefined();
  });
});

describe("rule 5: sandboxes in our Modal app that no ledger knows", () => {
  it("are adopted by their owner's ledger and terminated when no registration backs them", async () => {
    const repository = freshRepository();
    const config = loadConfig(env);
    if (!config.dispatch.ok) throw new Error("the test Worker is not configured");
    const { sandboxes: provider } = createServices(config.dispatch.value, {
      fetch,
      now: Date.now,
      logger: createLogger({ sink: () => {} }),
    });
    const app = await provider.ensureApp(config.dispatch.value.modal.appName);
    const image = await provider.ensureImage(app, "ghcr.io/actions/actions-runner:2.334.0");
    const runnerName = `modal-${Math.floor(Math.random() * 1_000_000_000)}-1`;
    const started = await provider.startRunner({
      appId: app,
      imageId: image,
      name: runnerName,
      command: ["/home/runner/run.sh"],
      env: {},
      cpu: 1,
      memoryMiB: 1024,
      timeoutSeconds: 3600,
      tags: { repository, owner: repository.split("/")[0] ?? "", "runner-name": runnerName, "job-id": "1" },
    });
    const cron = cronWithOwnControl();
    const report = await cron.run();
    expect(report.sweep?.adopted).toBeGreaterThanOrEqual(1);
    await eventually(async () => expect(await sandboxes().terminated()).toContain(started.sandboxId));
    expect(await registration(runnerName)).toBeUndefined();
  });
});
