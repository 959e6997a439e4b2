/**
 * Waiting is not failing: a job that waits — for a configuration fix, a rotated token — waits in the ledger and
 * spends none of its queue attempts, however long it waits; only real failures reach the dead-letter queue. Time is
 * driven by hand: the consumer's clock and the ledger's due messages (`releaseDue`, what its alarm sends).
 */
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { githubEmulator } from "../../emulators/github/control-client.ts";
import { MINUTE, queuedMessage, runMessages } from "../../support/lifecycle.ts";
import { sandboxBackend } from "../../support/sandbox-backend.ts";
import { withVars } from "../../support/vars.ts";

const JIT_ROUTE = "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig";
/** Longer than the queue could keep a retried message (wrangler.toml: 10 retries, then the dead-letter queue). */
const QUEUE_RETRY_SPAN_MS = 4 * 60 * MINUTE;

function setup(name: string) {
  const namespace = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  const github = githubEmulator(inject("githubEmulatorUrl"), namespace);
  const modal = sandboxBackend(namespace);
  const workerEnv = withVars({ GITHUB_API_URL: github.url, ...modal.vars });
  return { github, modal, workerEnv, repository: `${namespace}/repo` };
}

describe("missing credentials", () => {
  it("a job waits for longer than the queue could have kept it, and starts once the variables are fixed", async () => {
    const { modal, workerEnv, repository } = setup("noconfig-long");
    const token = modal.adapter === "direct" ? "MODAL_TOKEN_ID" : "MODAL_PROXY_TOKEN_ID";
    const broken = { ...workerEnv, [token]: "" };
    const message = queuedMessage(repository);
    const others = [queuedMessage(repository), queuedMessage(repository)];
    const ledger = ledgerFor(env.LEDGER, message.job.owner);
    const start = Date.now();

    const first = await runMessages([message, ...others], { env: broken, now: () => start });
    expect(first.retryMessages).toHaveLength(0);
    expect(first.explicitAcks).toHaveLength(3);

    // Hours pass. One waiting job is probed every few minutes; each probe is parked again, never retried.
    let probes = 0;
    for (let now = start; now <= start + QUEUE_RETRY_SPAN_MS; now += 5 * MINUTE) {
      for (const due of await ledger.releaseDue(now)) {
        probes += 1;
        const result = await runMessages([due.body], { env: broken, now: () => now, attempts: 11 });
        expect(result.retryMessages).toHaveLength(0);
      }
    }
    expect(probes).toBeGreaterThan(10);
    for (const job of [message, ...others]) {
      expect(await ledger.getJob(job.job.id)).toMatchObject({ state: "queued", waitReason: "config" });
    }

    // The operator fixes the variables: the next probe starts, and its claim releases the others. (From here on the
    // real clock: the launcher refuses requests signed hours ahead of its own.)
    const [probe] = await ledger.releaseDue(start + QUEUE_RETRY_SPAN_MS + 10 * MINUTE);
    expect(probe).toBeDefined();
    await runMessages([probe?.body], { env: workerEnv });
    const released = await ledger.releaseDue(Date.now() + 5000);
    expect(released).toHaveLength(2);
    await runMessages(
      released.map((due) => due.body),
      { env: workerEnv },
    );
    for (const job of [message, ...others]) {
      expect(await ledger.getJob(job.job.id)).toMatchObject({ state: "started", waitReason: null });
    }
    expect((await modal.sandboxes()).filter((sandbox) => sandbox.running)).toHaveLength(3);
  });
});

describe("a rate limit", () => {
  it("GitHub's 429 with retry-after: 7 — the job waits 7 seconds in the ledger, then one probe starts it", async () => {
    const { github, workerEnv, repository, modal } = setup("retry-after");
    await github.fail({ route: JIT_ROUTE, status: 429, retryAfter: 7 });
    const message = queuedMessage(repository);
    const ledger = ledgerFor(env.LEDGER, message.job.owner);
    const now = Date.now();
    const first = await runMessages([message], { env: workerEnv, now: () => now });
    expect(first.retryMessages).toHaveLength(0);
    expect(await ledger.releaseDue(now + 6000 - 30_000)).toEqual([]);
    const waiting = await ledger.getJob(message.job.id);
    expect(waiting?.wakeAt).toBeGreaterThanOrEqual(now + 7000);
    const due = await ledger.releaseDue(waiting?.wakeAt ?? 0);
    expect(due).toHaveLength(1);
    await runMessages([due[0]?.body], { env: workerEnv, now: () => waiting?.wakeAt ?? 0 });
    expect(await ledger.getJob(message.job.id)).toMatchObject({ state: "started", attempts: 1 });
    const jits = (await github.requests()).filter((request) => request.route === JIT_ROUTE);
    expect(jits.map((request) => request.status)).toEqual([429, 201]);
    expect((await modal.sandboxes()).map((sandbox) => sandbox.name)).toEqual([`modal-${message.job.id}-1`]);
  });
});

describe("a refused PAT", () => {
  it("is checked once more a minute later (a rotated token), then the job fails for good", async () => {
    const { github, workerEnv, repository } = setup("pat-401");
    await github.fail({ route: JIT_ROUTE, status: 401, count: 2, body: { message: "Bad credentials" } });
    const message = queuedMessage(repository);
    const ledger = ledgerFor(env.LEDGER, message.job.owner);
    const now = Date.now();
    await runMessages([message], { env: workerEnv, now: () => now });
    const waiting = await ledger.getJob(message.job.id);
    expect(waiting).toMatchObject({ state: "queued", waitReason: "unauthenticated" });
    expect(waiting?.wakeAt).toBeGreaterThanOrEqual(now + MINUTE);

    const [due] = await ledger.releaseDue(now + 2 * MINUTE);
    expect(due?.body.hints?.unauthenticatedRechecked).toBe(true);
    await runMessages([due?.body], { env: workerEnv, now: () => now + 2 * MINUTE });
    const failed = await ledger.getJob(message.job.id);
    expect(failed).toMatchObject({ state: "failed" });
    expect(failed?.lastError).toMatch(/401 Bad credentials/);
  });

  it("a token fixed within the minute: the re-check starts the job", async () => {
    const { github, workerEnv, repository, modal } = setup("pat-rotated");
    await github.fail({ route: JIT_ROUTE, status: 401, count: 1, body: { message: "Bad credentials" } });
    const message = queuedMessage(repository);
    const ledger = ledgerFor(env.LEDGER, message.job.owner);
    const now = Date.now();
    await runMessages([message], { env: workerEnv, now: () => now });
    const [due] = await ledger.releaseDue(now + 2 * MINUTE);
    await runMessages([due?.body], { env: workerEnv, now: () => now + 2 * MINUTE });
    expect(await ledger.getJob(message.job.id)).toMatchObject({ state: "started", attempts: 1 });
    expect((await modal.sandboxes()).map((sandbox) => sandbox.name)).toEqual([`modal-${message.job.id}-1`]);
  });
});

describe("a pause", () => {
  it("DISPATCH_PAUSED: jobs wait with one probe every few minutes; unset, the probe starts and releases the rest", async () => {
    const { modal, workerEnv, repository } = setup("paused-var");
    const paused = { ...workerEnv, DISPATCH_PAUSED: "true" };
    const jobs = [queuedMessage(repository), queuedMessage(repository), queuedMessage(repository)];
    const ledger = ledgerFor(env.LEDGER, jobs[0]?.job.owner ?? "");
    const start = Date.now();

    const first = await runMessages(jobs, { env: paused, now: () => start });
    expect(first.retryMessages).toHaveLength(0);
    expect(first.explicitAcks).toHaveLength(3);
    for (const job of jobs) {
      expect(await ledger.getJob(job.job.id)).toMatchObject({ state: "queued", waitReason: "paused" });
    }

    let probes = 0;
    for (let now = start; now <= start + 60 * MINUTE; now += 5 * MINUTE) {
      const due = await ledger.releaseDue(now);
      expect(due.length).toBeLessThanOrEqual(1);
      for (const message of due) {
        probes += 1;
        const result = await runMessages([message.body], { env: paused, now: () => now });
        expect(result.retryMessages).toHaveLength(0);
      }
    }
    expect(probes).toBeGreaterThanOrEqual(10);
    expect(await modal.sandboxes()).toHaveLength(0);

    const [probe] = await ledger.releaseDue(start + 70 * MINUTE);
    await runMessages([probe?.body], { env: workerEnv });
    const released = await ledger.releaseDue(Date.now() + 5000);
    expect(released).toHaveLength(2);
    await runMessages(
      released.map((due) => due.body),
      { env: workerEnv },
    );
    for (const job of jobs) {
      expect(await ledger.getJob(job.job.id)).toMatchObject({ state: "started", waitReason: null });
    }
    expect((await modal.sandboxes()).filter((sandbox) => sandbox.running)).toHaveLength(3);
  });

  it("paused by the operator: every job delivered meanwhile starts after resume, none lost, none twice", async () => {
    const { modal, workerEnv, repository } = setup("paused-api");
    const jobs = Array.from({ length: 5 }, () => queuedMessage(repository));
    const ledger = ledgerFor(env.LEDGER, jobs[0]?.job.owner ?? "");
    const start = Date.now();
    await ledger.setPaused(true, start);

    await runMessages(jobs, { env: workerEnv, now: () => start });
    // A duplicate delivery while paused changes nothing.
    await runMessages([jobs[0]], { env: workerEnv, now: () => start + 1000 });
    expect(await ledger.isPaused()).toBe(true);
    for (const job of jobs) {
      expect(await ledger.getJob(job.job.id)).toMatchObject({ state: "queued", waitReason: "paused" });
    }
    expect(await modal.sandboxes()).toHaveLength(0);

    const resumed = Date.now();
    expect(await ledger.setPaused(false, resumed)).toBe(5);
    const released = await ledger.releaseDue(resumed + 60_000);
    expect(released.map((due) => due.body.job.id).sort()).toEqual(jobs.map((job) => job.job.id).sort());
    await runMessages(
      released.map((due) => due.body),
      { env: workerEnv },
    );
    for (const job of jobs) {
      expect(await ledger.getJob(job.job.id)).toMatchObject({
        state: "started",
        attempts: 1,
        waitReason: null,
      });
    }
    const names = (await modal.sandboxes()).map((sandbox) => sandbox.name).sort();
    expect(names).toEqual(jobs.map((job) => `modal-${job.job.id}-1`).sort());
  });
});

describe("Modal out of capacity", () => {
  it("the job waits in the ledger for the time Modal asks, spends no queue attempt, then starts", async () => {
    const { modal, workerEnv, repository } = setup("modal-busy");
    const message = queuedMessage(repository);
    await modal.failStart({ kind: "capacity", runnerName: `modal-${message.job.id}-1` });
    const ledger = ledgerFor(env.LEDGER, message.job.owner);
    const now = Date.now();
    const first = await runMessages([message], { env: workerEnv, now: () => now });
    expect(first.retryMessages).toHaveLength(0);
    const waiting = await ledger.getJob(message.job.id);
    // Its runner was registered before Modal refused: the job keeps it (and its name) while it waits.
    expect(waiting).toMatchObject({ state: "dispatching", waitReason: "modal_busy", attempts: 1 });
    expect(waiting?.wakeAt).toBeGreaterThanOrEqual(now + 30_000);

    const due = await ledger.releaseDue(waiting?.wakeAt ?? 0);
    expect(due).toHaveLength(1);
    await runMessages([due[0]?.body], { env: workerEnv });
    expect(await ledger.getJob(message.job.id)).toMatchObject({
      state: "started",
      waitReason: null,
      attempts: 1,
    });
    const running = (await modal.sandboxes()).filter((sandbox) => sandbox.running);
    expect(running.map((sandbox) => sandbox.name)).toEqual([`modal-${message.job.id}-1`]);
  });
});
