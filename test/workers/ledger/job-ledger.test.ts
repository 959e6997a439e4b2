import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobMessage, QueuedJob } from "../../../src/jobs/message.ts";
import type { RunnerLimits } from "../../../src/ledger/capacity.ts";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import type { ClaimInput } from "../../../src/ledger/types.ts";
import type { SandboxSize } from "../../../src/ledger/usage.ts";
import { uniqueJobId } from "../../support/webhook.ts";

const LEASE = 60_000;
/**
 * Times are offsets from now: the ledger's own alarm runs on the real clock (its retention would delete jobs that
 * "ended" in 1970), so the records must be of today.
 */
const T = Date.now();

function job(overrides: Partial<QueuedJob> = {}): QueuedJob {
  return {
    id: uniqueJobId(),
    runId: 42,
    runAttempt: 1,
    labels: ["self-hosted", "modal"],
    repository: "acme/api",
    owner: "acme",
    ownerType: "Organization",
    private: true,
    ...overrides,
  };
}

const ledger = () => ledgerFor(env.LEDGER, `owner-${crypto.randomUUID()}`);

/** The size the Worker's default configuration gives a sandbox. */
const SIZE: SandboxSize = { cpu: 2, memoryMiB: 4096, gpu: null };
const NO_CAP: RunnerLimits = { maxRunners: null, runnerLifetimeMs: 3_600_000 };

/** A claim of `queued` at the given times; no runner cap unless `limits` says otherwise. */
function claimOf(queued: QueuedJob, at: { receivedAt: number; now: number }, limits = NO_CAP): ClaimInput {
  const message: JobMessage = {
    v: 1,
    kind: "job.queued",
    deliveryId: "d",
    receivedAt: at.receivedAt,
    job: queued,
  };
  return { job: queued, receivedAt: at.receivedAt, now: at.now, leaseMs: LEASE, limits, message };
}

describe("claim", () => {
  it("hands a new job out once, with a runner name derived from the job id", async () => {
    const stub = ledger();
    const queued = job();
    const first = await stub.claim(claimOf(queued, { receivedAt: T + 1000, now: T + 2000 }));
    expect(first).toEqual({
      outcome: "dispatch",
      runnerName: `modal-${queued.id}-1`,
      attempt: 1,
      resumed: false,
      reason: "first dispatch",
      cache: {},
    });
    const second = await stub.claim(claimOf(queued, { receivedAt: T + 1000, now: T + 3000 }));
    expect(second).toEqual({ outcome: "busy", retryInMs: LEASE - 1000 });
    const record = await stub.getJob(queued.id);
    expect(record).toMatchObject({
      state: "dispatching",
      attempts: 1,
      receivedAt: T + 1000,
      dispatchStartedAt: T + 2000,
    });
  });

  it("gives one dispatch to ten concurrent claims of the same job", async () => {
    const stub = ledger();
    const queued = job();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 5 }))),
    );
    expect(results.filter((result) => result.outcome === "dispatch")).toHaveLength(1);
    expect(results.filter((result) => result.outcome === "busy")).toHaveLength(9);
  });

  it("lets a claim take over once the lease ran out, with the same runner name, marked resumed", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 10 }));
    const later = await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 10 + LEASE + 1 }));
    expect(later).toMatchObject({ outcome: "dispatch", runnerName: `modal-${queued.id}-1`, resumed: true });
  });

  it("frees the lease on release so a retry resumes at once", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 10 }));
    await stub.release(queued.id, "GitHub answered 502", T + 20);
    expect(await stub.getJob(queued.id)).toMatchObject({ leaseUntil: 0, lastError: "GitHub answered 502" });
    const retry = await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 30 }));
    expect(retry).toMatchObject({ outcome: "dispatch", resumed: true });
  });

  it("once a runner started, records what was made and answers a queued delivery with a re-check", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 10 }));
    await stub.recordStarted({
      jobId: queued.id,
      runnerName: `modal-${queued.id}-1`,
      runnerId: 77,
      sandboxId: "sb-1",
      jitIssuedAt: T + 15,
      sandboxCreatedAt: T + 20,
      size: SIZE,
      now: T + 21,
    });
    expect(await stub.getJob(queued.id)).toMatchObject({
      state: "started",
      runnerId: 77,
      sandboxId: "sb-1",
      jitIssuedAt: T + 15,
      sandboxCreatedAt: T + 20,
      leaseUntil: 0,
    });
    const again = await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 30 }));
    // What the re-check finds is the reconciler's (test/workers/reconcile/lifecycle.test.ts, rule 3).
    expect(again).toEqual({ outcome: "recheck", state: "started" });
    const [runner] = await stub.runners(queued.id);
    expect(runner).toMatchObject({
      state: "live",
      runnerId: 77,
      sandboxId: "sb-1",
      requestedAt: T + 20,
      attempt: 1,
    });
  });

  it("gives a re-dispatched job the next runner name", async () => {
    const stub = ledger();
    const queued = job();
    const first = await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 10 }));
    expect(first).toMatchObject({ outcome: "dispatch", runnerName: `modal-${queued.id}-1`, attempt: 1 });
    await stub.fail(queued.id, "Modal refused the sandbox", T + 20);
    // A queued delivery for a failed job (GitHub's Redeliver) tries again, with the next name.
    const retried = await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 30 }));
    expect(retried).toMatchObject({
      outcome: "dispatch",
      runnerName: `modal-${queued.id}-2`,
      attempt: 2,
      reason: "queued again after the job had failed",
    });
  });

  it("skips a job GitHub already reported cancelled, even before it was ever claimed", async () => {
    const stub = ledger();
    const queued = job();
    await stub.recordLifecycle({
      job: { ...queued, conclusion: "cancelled", runnerId: null, runnerName: null },
      kind: "job.completed",
      receivedAt: T + 5,
      now: T + 5,
    });
    const claim = await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 10 }));
    expect(claim).toMatchObject({ outcome: "skip", state: "cancelled" });
  });

  it("returns the cached ids that have not expired", async () => {
    const stub = ledger();
    await stub.putCache(
      [
        { key: "modal.app", value: "ap-1", ttlMs: 1000 },
        { key: "modal.image", value: "im-1", ttlMs: 10 },
      ],
      T + 100,
    );
    const claim = await stub.claim(claimOf(job(), { receivedAt: T + 1, now: T + 500 }));
    expect(claim).toMatchObject({ outcome: "dispatch", cache: { "modal.app": "ap-1" } });
    expect(claim.outcome === "dispatch" && claim.cache["modal.image"]).toBe(undefined);
  });
});

describe("lifecycle", () => {
  it("moves started → running → finished and never back", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 10 }));
    await stub.recordStarted({
      jobId: queued.id,
      runnerName: "r",
      runnerId: 1,
      sandboxId: "sb",
      jitIssuedAt: T + 11,
      sandboxCreatedAt: T + 12,
      size: SIZE,
      now: T + 12,
    });
    const { record: running } = await stub.recordLifecycle({
      job: { ...queued, runnerName: "r" },
      kind: "job.in_progress",
      receivedAt: T + 20,
      now: T + 20,
    });
    expect(running).toMatchObject({ state: "running", inProgressAt: T + 20 });
    const { record: done } = await stub.recordLifecycle({
      job: { ...queued, conclusion: "success" },
      kind: "job.completed",
      receivedAt: T + 30,
      now: T + 30,
    });
    expect(done).toMatchObject({ state: "finished", completedAt: T + 30, conclusion: "success" });
    const { record: late } = await stub.recordLifecycle({
      job: queued,
      kind: "job.in_progress",
      receivedAt: T + 40,
      now: T + 40,
    });
    expect(late.state).toBe("finished");
  });

  it("lets GitHub's in_progress override our failed: another runner took the job", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim(claimOf(queued, { receivedAt: T + 1, now: T + 10 }));
    const { record: failed } = await stub.fail(
      queued.id,
      "Modal refused the sandbox: INVALID_ARGUMENT",
      T + 20,
    );
    expect(failed).toMatchObject({
      state: "failed",
      lastError: "Modal refused the sandbox: INVALID_ARGUMENT",
    });
    const { record: running } = await stub.recordLifecycle({
      job: queued,
      kind: "job.in_progress",
      receivedAt: T + 30,
      now: T + 30,
    });
    expect(running.state).toBe("running");
  });
});

describe("the per-owner runner cap", () => {
  const CAP_2: RunnerLimits = { maxRunners: 2, runnerLifetimeMs: 3_600_000 };

  async function start(stub: ReturnType<typeof ledger>, queued: QueuedJob, now: number) {
    const claimed = await stub.claim(claimOf(queued, { receivedAt: now, now }, CAP_2));
    if (claimed.outcome !== "dispatch") throw new Error(`expected a dispatch, got ${claimed.outcome}`);
    await stub.recordStarted({
      jobId: queued.id,
      runnerName: claimed.runnerName,
      runnerId: 1,
      sandboxId: `sb-${queued.id}`,
      jitIssuedAt: now,
      sandboxCreatedAt: now,
      size: SIZE,
      now,
    });
    return claimed.runnerName;
  }

  it("parks a job over the cap and lets it through when GitHub reports a runner finished", async () => {
    const stub = ledger();
    const first = job();
    const runnerOfFirst = await start(stub, first, T + 100);
    await start(stub, job(), T + 110);
    const third = job();
    const parked = await stub.claim(claimOf(third, { receivedAt: T + 120, now: T + 120 }, CAP_2));
    expect(parked).toEqual({ outcome: "parked", reason: "cap", liveRunners: 2, maxRunners: 2 });
    expect(await stub.getJob(third.id)).toMatchObject({
      state: "queued",
      parkedAt: T + 120,
      waitReason: "cap",
    });

    // A job that is not ours (no runner name of ours) completing frees nothing.
    const unrelated = await stub.recordLifecycle({
      job: { ...job(), conclusion: "success", runnerName: "someone-else" },
      kind: "job.completed",
      receivedAt: T + 125,
      now: T + 125,
    });
    expect(unrelated.release).toEqual([]);

    // Runners are not bound to jobs: the first job's runner finishing *another* job frees its slot.
    const { release } = await stub.recordLifecycle({
      job: { ...job(), conclusion: "success", runnerName: runnerOfFirst },
      kind: "job.completed",
      receivedAt: T + 130,
      now: T + 130,
    });
    expect(release.map((message) => message.job.id)).toEqual([third.id]);
    expect(release[0]).toMatchObject({ v: 1, kind: "job.queued", deliveryId: "d" });
    // Released, not yet claimed: released again only if the send was lost.
    expect(await stub.getJob(third.id)).toMatchObject({ parkedAt: T + 120 });
    const claimed = await stub.claim(claimOf(third, { receivedAt: T + 120, now: T + 140 }, CAP_2));
    expect(claimed.outcome).toBe("dispatch");
    expect(await stub.getJob(third.id)).toMatchObject({ state: "dispatching", parkedAt: null });
  });

  it("counts a runner as live until its sandbox's lifetime has passed", async () => {
    const stub = ledger();
    await start(stub, job(), T + 100);
    await start(stub, job(), T + 100);
    const waiting = job();
    expect((await stub.claim(claimOf(waiting, { receivedAt: T + 100, now: T + 200 }, CAP_2))).outcome).toBe(
      "parked",
    );
    const later = T + 100 + CAP_2.runnerLifetimeMs + 1;
    expect((await stub.claim(claimOf(waiting, { receivedAt: T + 100, now: later }, CAP_2))).outcome).toBe(
      "dispatch",
    );
  });

  it("a failed dispatch frees its slot", async () => {
    const stub = ledger();
    await start(stub, job(), T + 100);
    const failing = job();
    const claimed = await stub.claim(claimOf(failing, { receivedAt: T + 100, now: T + 100 }, CAP_2));
    expect(claimed.outcome).toBe("dispatch");
    const waiting = job();
    expect((await stub.claim(claimOf(waiting, { receivedAt: T + 101, now: T + 101 }, CAP_2))).outcome).toBe(
      "parked",
    );
    const { release } = await stub.fail(failing.id, "refused", T + 102);
    expect(release.map((message) => message.job.id)).toEqual([waiting.id]);
  });

  it("forgets a parked job GitHub cancelled", async () => {
    const stub = ledger();
    await start(stub, job(), T + 100);
    await start(stub, job(), T + 100);
    const waiting = job();
    await stub.claim(claimOf(waiting, { receivedAt: T + 100, now: T + 100 }, CAP_2));
    const { record } = await stub.recordLifecycle({
      job: { ...waiting, conclusion: "cancelled", runnerName: null },
      kind: "job.completed",
      receivedAt: T + 110,
      now: T + 110,
    });
    expect(record).toMatchObject({ state: "cancelled", parkedAt: null });
  });
});

describe("sharding", () => {
  it("maps an owner to one object whatever the case of its login", () => {
    expect(ledgerFor(env.LEDGER, "Acme").id.toString()).toBe(ledgerFor(env.LEDGER, "acme").id.toString());
    expect(ledgerFor(env.LEDGER, "acme").id.toString()).not.toBe(
      ledgerFor(env.LEDGER, "other").id.toString(),
    );
  });
});
