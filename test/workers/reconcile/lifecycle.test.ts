/**
 * The lifecycle rules (README, "Lifecycle guarantees"), each against emulators that behave like GitHub (runners
 * are not bound to jobs; a busy runner cannot be deleted) and Modal. Assertions are on what the emulators end up
 * holding — registrations, sandboxes, calls — and on the ledger, never on log text. Time is injected: a job is
 * dispatched "minutes ago" through the consumer's clock, and the reconciler is run at a chosen `now`.
 */
import { describe, expect, it } from "vitest";
import { github, sandboxes } from "../../support/dispatch.ts";
import {
  deletesOf,
  dispatched,
  eventually,
  freshRepository,
  jitsOf,
  ledgerOf,
  lifecycleMessage,
  MINUTE,
  reconcile,
  registration,
  runMessages,
  sandboxOf,
} from "../../support/lifecycle.ts";

const BASE = ["self-hosted", "modal"];

describe("rule 1: a job cancelled before pickup", () => {
  it("deregisters its runner first, then terminates its sandbox", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    const sandbox = await sandboxOf(job.runnerName);
    expect(sandbox?.running).toBe(true);
    expect(await registration(job.runnerName)).toBeDefined();

    await runMessages([
      lifecycleMessage(job.message, "completed", { runnerName: null, conclusion: "cancelled" }),
    ]);
    // The webhook's fast path: the ledger's alarm fires at once; no reconcile is called here.
    await eventually(async () => {
      expect(await registration(job.runnerName)).toBeUndefined();
      expect(await sandboxes().terminated()).toContain(sandbox?.id);
    });
    const [runner] = await ledgerOf(repository).runners(job.message.job.id);
    expect(runner).toMatchObject({
      state: "gone",
      retireReason: "its job was cancelled before it picked it up",
    });
    expect(await deletesOf(repository)).toHaveLength(1);
  });

  it("terminates nothing while GitHub refuses to deregister, and finishes once it may", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    const sandbox = await sandboxOf(job.runnerName);
    await github().fail({
      route: "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}",
      pathIncludes: `/repos/${repository}/`,
      status: 502,
      count: 1,
    });
    await runMessages([
      lifecycleMessage(job.message, "completed", { runnerName: null, conclusion: "cancelled" }),
    ]);
    await eventually(async () => expect(await deletesOf(repository)).toHaveLength(1));
    expect(await sandboxes().terminated()).not.toContain(sandbox?.id);
    expect((await sandboxOf(job.runnerName))?.running).toBe(true);
    // The next cycle (its backoff has passed) deregisters, then terminates.
    await reconcile(repository, Date.now() + MINUTE);
    expect(await registration(job.runnerName)).toBeUndefined();
    expect(await sandboxes().terminated()).toContain(sandbox?.id);
  });

  it("leaves a busy runner alone: it is running another job", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    const sandbox = await sandboxOf(job.runnerName);
    // GitHub gave this runner some other job; its delivery has not reached us.
    await github().updateRunner(job.runner.runnerId ?? 0, { busy: true, jobId: 424242 });
    await runMessages([
      lifecycleMessage(job.message, "completed", { runnerName: null, conclusion: "cancelled" }),
    ]);
    await eventually(async () => expect(await deletesOf(repository)).toHaveLength(1));
    await reconcile(repository);
    expect(await registration(job.runnerName)).toMatchObject({ busy: true });
    expect(await sandboxes().terminated()).not.toContain(sandbox?.id);
    expect((await ledgerOf(repository).runners(job.message.job.id))[0]).toMatchObject({ state: "busy" });
  });
});

describe("rule 2: a runner taken by another job", () => {
  it("gives the robbed job a new runner when no idle runner of ours can take it, and removes the spare", async () => {
    const repository = freshRepository();
    const a = await dispatched(repository, { labels: BASE });
    const b = await dispatched(repository, { labels: [...BASE, "extra"] });
    const spare = await sandboxOf(a.runnerName);
    // GitHub routes job A to B's runner (B's labels cover A's); A's own runner cannot take B.
    await github().updateRunner(b.runner.runnerId ?? 0, { busy: true, jobId: a.message.job.id });
    await runMessages([
      lifecycleMessage(a.message, "in_progress", { runnerName: b.runnerName, runnerId: b.runner.runnerId }),
    ]);

    const second = `modal-${b.message.job.id}-2`;
    await eventually(async () => {
      expect(await registration(second)).toBeDefined();
      expect((await sandboxOf(second))?.running).toBe(true);
      expect(await registration(a.runnerName)).toBeUndefined();
      expect(await sandboxes().terminated()).toContain(spare?.id);
    });
    // The busy runner is untouched.
    expect(await registration(b.runnerName)).toMatchObject({ busy: true });
    expect(await sandboxes().terminated()).not.toContain(b.runner.sandboxId);
    expect(await ledgerOf(repository).getJob(b.message.job.id)).toMatchObject({
      state: "started",
      attempts: 2,
      runnerName: second,
      dispatchReason: `its runner ${b.runnerName} was taken by job ${a.message.job.id}`,
    });
    // One idle runner for B, not two.
    const idle = (await ledgerOf(repository).runners(b.message.job.id)).filter(
      (runner) => runner.state === "live",
    );
    expect(idle.map((runner) => runner.runnerName)).toEqual([second]);
  });

  it("leaves the robbed job to an idle runner of ours whose labels cover it", async () => {
    const repository = freshRepository();
    const a = await dispatched(repository, { labels: BASE });
    const b = await dispatched(repository, { labels: BASE });
    await github().updateRunner(b.runner.runnerId ?? 0, { busy: true, jobId: a.message.job.id });
    await runMessages([
      lifecycleMessage(a.message, "in_progress", { runnerName: b.runnerName, runnerId: b.runner.runnerId }),
    ]);
    await reconcile(repository);
    expect(await jitsOf(repository)).toHaveLength(2);
    expect(await registration(a.runnerName)).toBeDefined();
    expect((await sandboxOf(a.runnerName))?.running).toBe(true);
    expect(await ledgerOf(repository).getJob(b.message.job.id)).toMatchObject({
      state: "started",
      attempts: 1,
    });
  });
});

describe("rule 2: still queued after dispatch", () => {
  it("a sandbox that died before its runner connected: dispatched again with the next name", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    await sandboxes().finish(job.runner.sandboxId ?? "");
    const report = await reconcile(repository, Date.now() + 4 * MINUTE);
    expect(report.redispatched).toEqual([
      { jobId: job.message.job.id, reason: expect.stringContaining(`its runner ${job.runnerName} is gone`) },
    ]);
    const second = `modal-${job.message.job.id}-2`;
    await eventually(async () => expect((await sandboxOf(second))?.running).toBe(true));
    // The dead registration went first; the one job has one live runner.
    expect(await registration(job.runnerName)).toBeUndefined();
    expect(await registration(second)).toBeDefined();
  });

  it("a runner busy with a job whose delivery never came: the waiting job gets another", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    await github().updateRunner(job.runner.runnerId ?? 0, { busy: true, jobId: 777 });
    const report = await reconcile(repository, Date.now() + 4 * MINUTE);
    expect(report.redispatched.map((entry) => entry.jobId)).toEqual([job.message.job.id]);
    await eventually(async () => expect(await registration(`modal-${job.message.job.id}-2`)).toBeDefined());
    expect(await registration(job.runnerName)).toMatchObject({ busy: true });
  });

  it("an online, idle runner is left to take it", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    await github().updateRunner(job.runner.runnerId ?? 0, { status: "online" });
    const now = Date.now() + 4 * MINUTE;
    const report = await reconcile(repository, now);
    expect(report.checkedJobs).toBe(1);
    expect(report.redispatched).toEqual([]);
    expect(report.retired).toEqual([]);
    expect(await jitsOf(repository)).toHaveLength(1);
    expect((await ledgerOf(repository).getJob(job.message.job.id))?.checkAt).toBeGreaterThan(now);
  });

  it("a job no runner takes fails after MAX_DISPATCH_ATTEMPTS runners, saying why", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    const id = job.message.job.id;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const name = `modal-${id}-${attempt}`;
      const sandbox = await eventually(async () => {
        const found = await sandboxOf(name);
        expect(found?.running).toBe(true);
        return found;
      });
      await sandboxes().finish(sandbox?.id ?? "");
      await reconcile(repository, Date.now() + attempt * 4 * MINUTE);
    }
    const record = await ledgerOf(repository).getJob(id);
    expect(record).toMatchObject({ state: "failed", attempts: 3 });
    expect(record?.lastError).toMatch(
      /^no runner took it after 3 runners; last: its runner modal-\d+-3 is gone/,
    );
    expect(await jitsOf(repository)).toHaveLength(3);
  });
});

describe("rule 3: a redelivery means retry", () => {
  it("a queued delivery for a job whose runner is offline and whose sandbox is gone dispatches it again", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository, { ageMs: 2 * MINUTE });
    await sandboxes().finish(job.runner.sandboxId ?? "");
    // GitHub's "Redeliver": the same delivery again.
    await runMessages([job.message]);
    await eventually(async () =>
      expect((await sandboxOf(`modal-${job.message.job.id}-2`))?.running).toBe(true),
    );
    expect(await registration(job.runnerName)).toBeUndefined();
  });

  it("does nothing when the job's runner is there to take it", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository, { ageMs: 2 * MINUTE });
    await github().updateRunner(job.runner.runnerId ?? 0, { status: "online" });
    await runMessages([job.message]);
    await reconcile(repository);
    expect(await jitsOf(repository)).toHaveLength(1);
    expect((await sandboxOf(job.runnerName))?.running).toBe(true);
  });
});

describe("rule 5: hung and orphaned things", () => {
  it("a sandbox still running ORPHAN_GRACE_SECONDS after its runner's job completed is terminated", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    const sandbox = await sandboxOf(job.runnerName);
    const own = { runnerName: job.runnerName, runnerId: job.runner.runnerId };
    await runMessages([lifecycleMessage(job.message, "in_progress", own)]);
    await runMessages([lifecycleMessage(job.message, "completed", { ...own, conclusion: "success" })]);
    await reconcile(repository, Date.now() + 5 * MINUTE);
    expect(await sandboxes().terminated()).not.toContain(sandbox?.id);
    await reconcile(repository, Date.now() + 11 * MINUTE);
    expect(await sandboxes().terminated()).toContain(sandbox?.id);
    expect(await registration(job.runnerName)).toBeUndefined();
  });

  it("runners named like ours that the ledger does not know: deleted when offline, or idle, for the grace", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    await github().updateRunner(job.runner.runnerId ?? 0, { status: "online" });
    await github().seed({
      runners: [
        { repository, name: "modal-111111-1", status: "offline", labels: BASE },
        { repository, name: "modal-222222-1", status: "online", labels: BASE },
        { repository, name: "modal-333333-1", status: "online", busy: true, labels: BASE },
        { repository, name: "someone-elses-runner", status: "offline", labels: BASE },
      ],
    });
    const now = Date.now() + 11 * MINUTE;
    await reconcile(repository, now);
    expect(await registration("modal-111111-1")).toBeDefined();
    await reconcile(repository, now + 11 * MINUTE);
    expect(await registration("modal-111111-1")).toBeUndefined();
    expect(await registration("modal-222222-1")).toBeUndefined();
    expect(await registration("modal-333333-1")).toMatchObject({ busy: true });
    expect(await registration("someone-elses-runner")).toBeDefined();
  });

  it("the cap counts sandboxes Modal still runs: a dead one frees its slot", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    const own = { runnerName: job.runnerName, runnerId: job.runner.runnerId };
    await github().updateRunner(job.runner.runnerId ?? 0, { busy: true, jobId: job.message.job.id });
    await runMessages([lifecycleMessage(job.message, "in_progress", own)]);
    // The sandbox dies mid-job (and its completion never comes).
    await sandboxes().finish(job.runner.sandboxId ?? "");
    const ledger = ledgerOf(repository);
    expect(await ledger.liveRunnerCount(Date.now())).toBe(1);
    await reconcile(repository, Date.now() + 11 * MINUTE);
    expect(await ledger.liveRunnerCount(Date.now())).toBe(0);
  });
});

describe("the reconciler itself", () => {
  it("two cycles at once do the work once", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    await sandboxes().finish(job.runner.sandboxId ?? "");
    const ledger = ledgerOf(repository);
    const now = Date.now() + 4 * MINUTE;
    const reports = await Promise.all([ledger.reconcile({ now }), ledger.reconcile({ now })]);
    expect(reports.filter((report) => report.ran)).toHaveLength(1);
    await eventually(async () => expect(await registration(`modal-${job.message.job.id}-2`)).toBeDefined());
    await reconcile(repository, now);
    expect(await jitsOf(repository)).toHaveLength(2);
    expect(await deletesOf(repository)).toHaveLength(1);
  });

  it("makes no call for an owner with nothing in flight", async () => {
    const repository = freshRepository();
    const job = await dispatched(repository);
    const own = { runnerName: job.runnerName, runnerId: job.runner.runnerId };
    await runMessages([lifecycleMessage(job.message, "in_progress", own)]);
    await runMessages([lifecycleMessage(job.message, "completed", { ...own, conclusion: "success" })]);
    await sandboxes().finish(job.runner.sandboxId ?? "");
    await github()
      .updateRunner(job.runner.runnerId ?? 0, { complete: { conclusion: "success" } })
      .catch(() => {});
    await reconcile(repository, Date.now() + 11 * MINUTE);
    expect(await ledgerOf(repository).runners()).toEqual([]);
    const ours = async () =>
      (await github().requests()).filter((request) => request.path.includes(`/${repository}/`)).length;
    const before = await ours();
    const report = await reconcile(repository, Date.now() + 60 * MINUTE);
    expect(report).toMatchObject({ githubCalls: 0, modalCalls: 0 });
    expect(await ours()).toBe(before);
  });
});
