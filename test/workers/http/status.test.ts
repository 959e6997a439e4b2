/**
 * What an operator sees: ledgers are put in every state through the real Worker (signed deliveries → the local
 * Queue → consumer → emulators), then `/status` and `/api/status` must show each job — state, runner, sandbox,
 * why it waits or failed — the latencies and the cost, and must never show a secret. Runs in a project of its own
 * (vitest.config.ts): it pauses dispatch, which no other test's ledgers may see.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { duration } from "../../../src/http/status-page/format.ts";
import { controlFor } from "../../../src/ledger/control.ts";
import type { StatusReport } from "../../../src/status/report.ts";
import {
  deliverQueued,
  github,
  ledgerRecord,
  sandboxes,
  uniqueRepository,
  waitForState,
} from "../../support/dispatch.ts";
import {
  dispatched as dispatchedAgo,
  eventually,
  freshRepository,
  ledgerOf,
  lifecycleMessage,
  MINUTE,
  queuedMessage,
  reconcile,
  registration,
  runMessages,
  sandboxOf,
} from "../../support/lifecycle.ts";
import { operatorApp, operatorRequest, STATUS_TOKEN, TOKEN_VARS } from "../../support/operator.ts";
import { deliverJobEvent, jobRow, tableOf } from "../../support/status-page.ts";
import { withVars } from "../../support/vars.ts";
import { uniqueJobId } from "../../support/webhook.ts";

const send = operatorApp(TOKEN_VARS);
const page = async () => (await send(operatorRequest("/status", { token: STATUS_TOKEN }))).text();
const report = async (): Promise<StatusReport> =>
  (await send(operatorRequest("/api/status", { token: STATUS_TOKEN }))).json();
const post = (path: string, body = "{}") =>
  send(operatorRequest(path, { method: "POST", token: STATUS_TOKEN, contentType: "application/json", body }));

const owner = (repository: string) => repository.split("/")[0] ?? "";
const jobs: Record<"started" | "running" | "finished" | "cancelled" | "failed" | "waiting", number> = {
  started: 0,
  running: 0,
  finished: 0,
  cancelled: 0,
  failed: 0,
  waiting: 0,
};
const main = uniqueRepository();
const other = uniqueRepository().replace(/^[^/]+/, (name) => `${name}-b`);
const waiting = uniqueRepository().replace(/^[^/]+/, (name) => `${name}-w`);

async function dispatched(repository: string, jobId?: number) {
  const { jobId: id } = await deliverQueued({ repository, ...(jobId === undefined ? {} : { jobId }) });
  return waitForState(repository, id, ["started"]);
}

beforeAll(async () => {
  jobs.started = (await dispatched(main)).jobId;

  const running = await dispatched(main);
  jobs.running = running.jobId;
  await deliverJobEvent("in_progress", main, running.jobId, { runnerName: running.runnerName });
  await waitForState(main, running.jobId, ["running"]);

  const finished = await dispatched(main);
  jobs.finished = finished.jobId;
  await deliverJobEvent("in_progress", main, finished.jobId, { runnerName: finished.runnerName });
  await waitForState(main, finished.jobId, ["running"]);
  await deliverJobEvent("completed", main, finished.jobId, { runnerName: finished.runnerName });
  await waitForState(main, finished.jobId, ["finished"]);

  const cancelled = await dispatched(other);
  jobs.cancelled = cancelled.jobId;
  await deliverJobEvent("completed", other, cancelled.jobId, { runnerName: null, conclusion: "cancelled" });
  await waitForState(other, cancelled.jobId, ["cancelled"]);

  // Modal refuses the sandbox for good, with a message that quotes a credential (one Modal's client does not
  // know to redact itself: only the status surface's own scrubber stands between it and the page).
  jobs.failed = uniqueJobId();
  await sandboxes().failStart({
    kind: "invalid",
    runnerName: `modal-${jobs.failed}-1`,
    message: `image pull refused for token ${env.GITHUB_TOKEN}`,
  });
  await deliverQueued({ repository: other, jobId: jobs.failed });
  await waitForState(other, jobs.failed, ["failed"]);

  // The consumer of a Worker whose Modal token is missing: the job waits in the ledger for the configuration.
  const message = queuedMessage(waiting);
  jobs.waiting = message.job.id;
  await runMessages([message], { env: withVars({ MODAL_TOKEN_ID: "" }) });
  // As its webhook delivery would have (the consumer alone does not tell the control object).
  await controlFor(env.CONTROL).registerOwner(owner(waiting), Date.now());
}, 90_000);

describe("the status report", () => {
  it("lists every owner that had a job through the webhook, before any reconcile cycle", async () => {
    const { owners } = await report();
    const names = owners.map((entry) => entry.owner);
    expect(names).toEqual(expect.arrayContaining([owner(main), owner(other), owner(waiting)]));
  });

  it("has every job in the state it is in, with its runner, sandbox and reasons", async () => {
    const { owners, totals } = await report();
    const all = (key: "inFlight" | "failures" | "ended") => owners.flatMap((entry) => entry[key]);
    const started = all("inFlight").find((job) => job.jobId === jobs.started);
    expect(started).toMatchObject({ state: "started", runnerName: `modal-${jobs.started}-1` });
    expect(started?.sandboxId).toEqual(expect.any(String));
    expect(all("inFlight").find((job) => job.jobId === jobs.running)).toMatchObject({ state: "running" });
    expect(all("inFlight").find((job) => job.jobId === jobs.waiting)).toMatchObject({
      state: "queued",
      waitReason: "config",
      lastError: "MODAL_TOKEN_ID is required",
    });
    expect(all("failures").find((job) => job.jobId === jobs.failed)?.lastError).toMatch(/image pull refused/);
    expect(all("ended").find((job) => job.jobId === jobs.cancelled)).toMatchObject({ state: "cancelled" });
    expect(all("ended").find((job) => job.jobId === jobs.finished)).toMatchObject({ state: "finished" });
    expect(owners.find((entry) => entry.owner === owner(waiting))?.waiting).toEqual([
      { reason: "config", count: 1, oldest: expect.any(Number) },
    ]);
    expect(totals.failedToday).toBeGreaterThanOrEqual(1);
    expect(totals.liveRunners).toBeGreaterThanOrEqual(2);
  });

  it("has per-stage latencies of the last hour and day, and a cost", async () => {
    const { latency, cost } = await report();
    for (const window of [latency.hour, latency.day]) {
      for (const stage of ["queue", "jit", "sandbox", "connect", "pickup", "run"] as const) {
        expect(window[stage].count, stage).toBeGreaterThanOrEqual(1);
        expect(window[stage].p50, stage).toEqual(expect.any(Number));
      }
    }
    expect(cost.perSandboxSecond).toBeGreaterThan(0);
    expect(cost.today).toBeGreaterThan(0);
  });
});

describe("the status page", () => {
  it("shows each job's state, runner, sandbox and why", async () => {
    const html = await page();
    const flight = tableOf(html, `class="jobs" data-owner="${owner(main)}"`);
    const started = jobRow(flight, jobs.started);
    expect(started).toContain("runner started");
    expect(started).toContain(`modal-${jobs.started}-1`);
    expect(started).toContain((await ledgerRecord(owner(main), jobs.started))?.sandboxId ?? "no sandbox");
    expect(started).toContain("first dispatch");
    expect(jobRow(flight, jobs.running)).toContain(">running<");

    const waits = jobRow(tableOf(html, `class="jobs" data-owner="${owner(waiting)}"`), jobs.waiting);
    expect(waits).toContain("waiting: config");
    expect(waits).toContain("MODAL_TOKEN_ID is required");
    expect(tableOf(html, 'id="waiting-table"')).toMatch(/data-reason="config"[\s\S]*the dispatch variables/);

    const failure = jobRow(tableOf(html, 'id="failures-table"'), jobs.failed);
    expect(failure).toContain("image pull refused");
    expect(failure).toContain("[redacted]");
    const ended = tableOf(html, 'id="ended-table"');
    expect(jobRow(ended, jobs.cancelled)).toContain("cancelled");
    expect(jobRow(ended, jobs.finished)).toContain("finished");
  });

  it("puts webhook → in progress first, and shows the cost, the configuration and the warnings", async () => {
    const [html, data] = await Promise.all([page(), report()]);
    const pickup = /<tr data-stage="pickup" class="felt">[\s\S]*?<\/tr>/.exec(html)?.[0] ?? "";
    expect(pickup).toContain("webhook → in progress");
    expect(pickup).toContain(duration(data.latency.hour.pickup.p50));
    expect(html.indexOf('data-stage="pickup"')).toBeLessThan(html.indexOf('data-stage="queue"'));
    expect(html).toContain('id="felt-latency"');
    expect(/<p id="cost-line">[\s\S]*?<\/p>/.exec(html)?.[0]).toMatch(
      /\$[\d.]+ today[\s\S]*per sandbox hour/,
    );
    expect(html).toMatch(
      /<div data-variable="MODAL_TOKEN_SECRET"><dt><code>MODAL_TOKEN_SECRET<\/code><\/dt><dd class="mono">set</,
    );
    expect(html).toContain("ALLOWED_REPOS is empty");
    const broken = operatorApp({ ...TOKEN_VARS, SANDBOX_CPU: "lots" });
    const problems = await (await broken(operatorRequest("/status", { token: STATUS_TOKEN }))).text();
    expect(problems).toMatch(/class="problem"><strong>Problem:<\/strong> SANDBOX_CPU/);
    const withUser = operatorApp({
      ...TOKEN_VARS,
      GITHUB_API_URL: "https://ci:hunter2-password@ghe.example/api/v3",
    });
    const shown = await (await withUser(operatorRequest("/status", { token: STATUS_TOKEN }))).text();
    expect(shown).toContain("https://ghe.example/api/v3");
    expect(shown).not.toContain("hunter2");
  });

  it("never shows a secret: credentials, the webhook secret, the status token, JIT configs", async () => {
    const jitConfigs = (await sandboxes().sandboxes())
      .map((sandbox) => sandbox.env.ACTIONS_RUNNER_INPUT_JITCONFIG ?? "")
      .filter((jit) => jit !== "");
    expect(jitConfigs.length).toBeGreaterThanOrEqual(3);
    const secrets = [
      env.GITHUB_TOKEN,
      env.WEBHOOK_SECRET,
      env.MODAL_TOKEN_ID,
      env.MODAL_TOKEN_SECRET,
      STATUS_TOKEN,
      ...jitConfigs,
    ];
    const bodies = [await page(), JSON.stringify(await report())];
    for (const body of bodies) for (const secret of secrets) expect(body).not.toContain(secret);
    expect(bodies[1]).toContain("[redacted]");
  });
});

describe("the cost of a job sized by its labels", () => {
  it("is priced at its own size in its row and in the day's total, not at the configured size", async () => {
    const repository = freshRepository();
    const labels = ["self-hosted", "modal", "modal-cpu-16", "modal-mem-64g", "modal-gpu-l4"];
    // Through the real consumer; then its sandbox is made ten minutes old (a JIT pace does not let the consumer's
    // clock go back that far), as if the job had been running that long.
    const { message } = await dispatchedAgo(repository, { labels });
    await runInDurableObject(ledgerOf(repository), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(
        "UPDATE jobs SET sandbox_created_at = sandbox_created_at - ? WHERE job_id = ?",
        10 * MINUTE,
        message.job.id,
      );
      sql.exec(
        "UPDATE runners SET requested_at = requested_at - ? WHERE job_id = ?",
        10 * MINUTE,
        message.job.id,
      );
    });
    const data = await report();
    const record = data.owners.flatMap((entry) => entry.inFlight).find((job) => job.jobId === message.job.id);
    expect(record?.size).toEqual({ cpu: 16, memoryMiB: 65536, gpu: { type: "L4", count: 1 } });
    // Modal's list prices (README): 16 cores, 64 GiB and an L4, against 2 cores and 4 GiB by default.
    const perSecond = 16 * 0.0000393 + 64 * 0.00000222 + 0.000222;
    const ownCost = 600 * perSecond;
    const row = jobRow(
      tableOf(await page(), `class="jobs" data-owner="${owner(repository)}"`),
      message.job.id,
    );
    const shown = Number(/<td class="num">\$([\d.]+)<\/td>\s*<\/tr>/.exec(row)?.[1]);
    // Ten minutes and the few seconds since, at the job's size (at the default size: $0.05).
    expect(shown).toBeGreaterThanOrEqual(ownCost - 0.005);
    expect(shown).toBeLessThan(ownCost + 0.05);
    expect(data.cost.today).toBeGreaterThanOrEqual(ownCost);
    expect(data.cost.perSandboxSecond).toBeCloseTo(2 * 0.0000393 + 4 * 0.00000222, 12);
  });
});

describe("pause and resume", () => {
  it("parks new jobs while paused, shows the banner, and lets them go on resume", async () => {
    expect(await (await post("/api/pause")).json()).toMatchObject({ paused: true });
    const repository = uniqueRepository().replace(/^[^/]+/, (name) => `${name}-p`);
    const { jobId } = await deliverQueued({ repository });
    for (let tries = 0; (await ledgerRecord(owner(repository), jobId))?.waitReason !== "paused"; tries++) {
      if (tries > 200) throw new Error("the job was not parked for the pause");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const html = await page();
    expect(html).toContain('id="paused"');
    expect(html).toContain('id="resume"');
    expect(html).not.toContain('id="pause"');
    expect(tableOf(html, 'id="waiting-table"')).toContain('data-reason="paused"');
    expect((await report()).paused).toEqual({ api: true, variable: false });

    expect(await (await post("/api/resume")).json()).toMatchObject({ paused: false, released: 1 });
    await waitForState(repository, jobId, ["started"]);
    expect(await page()).toContain('id="running"');
  });

  it("with terminateIdle: idle runners are deregistered, then terminated; busy ones finish; their jobs wait for the resume", async () => {
    const repository = freshRepository();
    const idle = await dispatchedAgo(repository);
    const busy = await dispatchedAgo(repository);
    await github().updateRunner(busy.runner.runnerId ?? 0, { busy: true, jobId: busy.message.job.id });
    await runMessages([lifecycleMessage(busy.message, "in_progress", { runnerName: busy.runnerName })]);

    const paused: { paused: boolean; retiring: number } = await (
      await post("/api/pause", '{"terminateIdle": true}')
    ).json();
    expect(paused.paused).toBe(true);
    expect(paused.retiring).toBeGreaterThanOrEqual(1);
    await eventually(async () => {
      expect(await registration(idle.runnerName)).toBeUndefined();
      expect(await sandboxes().terminated()).toContain(idle.runner.sandboxId);
    });
    expect(await registration(busy.runnerName)).toMatchObject({ busy: true });
    expect((await sandboxOf(busy.runnerName))?.running).toBe(true);

    // Minutes later GitHub still has the idle runner's job queued: its next runner waits for the resume.
    const next = `modal-${idle.message.job.id}-2`;
    await reconcile(repository, Date.now() + 4 * MINUTE);
    await eventually(async () =>
      expect(await ledgerOf(repository).getJob(idle.message.job.id)).toMatchObject({ waitReason: "paused" }),
    );
    expect(await registration(next)).toBeUndefined();

    expect(await (await post("/api/resume")).json()).toMatchObject({ paused: false });
    await eventually(async () => expect((await sandboxOf(next))?.running).toBe(true));
    expect(await registration(busy.runnerName)).toMatchObject({ busy: true });
  });
});
