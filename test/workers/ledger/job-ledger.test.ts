import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { QueuedJob } from "../../../src/jobs/message.ts";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { uniqueJobId } from "../../support/webhook.ts";

const LEASE = 60_000;

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

describe("claim", () => {
  it("hands a new job out once, with a runner name derived from the job id", async () => {
    const stub = ledger();
    const queued = job();
    const first = await stub.claim({ job: queued, receivedAt: 1000, now: 2000, leaseMs: LEASE });
    expect(first).toEqual({
      outcome: "dispatch",
      runnerName: `modal-${queued.id}-1`,
      attempt: 1,
      resumed: false,
      cache: {},
    });
    const second = await stub.claim({ job: queued, receivedAt: 1000, now: 3000, leaseMs: LEASE });
    expect(second).toEqual({ outcome: "busy", retryInMs: LEASE - 1000 });
    const record = await stub.getJob(queued.id);
    expect(record).toMatchObject({
      state: "dispatching",
      attempts: 1,
      receivedAt: 1000,
      dispatchStartedAt: 2000,
    });
  });

  it("gives one dispatch to ten concurrent claims of the same job", async () => {
    const stub = ledger();
    const queued = job();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => stub.claim({ job: queued, receivedAt: 1, now: 5, leaseMs: LEASE })),
    );
    expect(results.filter((result) => result.outcome === "dispatch")).toHaveLength(1);
    expect(results.filter((result) => result.outcome === "busy")).toHaveLength(9);
  });

  it("lets a claim take over once the lease ran out, with the same runner name, marked resumed", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim({ job: queued, receivedAt: 1, now: 10, leaseMs: LEASE });
    const later = await stub.claim({ job: queued, receivedAt: 1, now: 10 + LEASE + 1, leaseMs: LEASE });
    expect(later).toMatchObject({ outcome: "dispatch", runnerName: `modal-${queued.id}-1`, resumed: true });
  });

  it("frees the lease on release so a retry resumes at once", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim({ job: queued, receivedAt: 1, now: 10, leaseMs: LEASE });
    await stub.release(queued.id, "GitHub answered 502", 20);
    expect(await stub.getJob(queued.id)).toMatchObject({ leaseUntil: 0, lastError: "GitHub answered 502" });
    const retry = await stub.claim({ job: queued, receivedAt: 1, now: 30, leaseMs: LEASE });
    expect(retry).toMatchObject({ outcome: "dispatch", resumed: true });
  });

  it("is a no-op once a runner started, and records what was made", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim({ job: queued, receivedAt: 1, now: 10, leaseMs: LEASE });
    await stub.recordStarted({
      jobId: queued.id,
      runnerName: `modal-${queued.id}-1`,
      runnerId: 77,
      sandboxId: "sb-1",
      jitIssuedAt: 15,
      sandboxCreatedAt: 20,
      now: 21,
    });
    expect(await stub.getJob(queued.id)).toMatchObject({
      state: "started",
      runnerId: 77,
      sandboxId: "sb-1",
      jitIssuedAt: 15,
      sandboxCreatedAt: 20,
      leaseUntil: 0,
    });
    const again = await stub.claim({ job: queued, receivedAt: 1, now: 30, leaseMs: LEASE });
    expect(again).toEqual({ outcome: "skip", state: "started", reason: "job is already started" });
  });

  it("skips a job GitHub already reported cancelled, even before it was ever claimed", async () => {
    const stub = ledger();
    const queued = job();
    await stub.recordLifecycle({
      job: { ...queued, conclusion: "cancelled", runnerId: null, runnerName: null },
      kind: "job.completed",
      receivedAt: 5,
      now: 5,
    });
    const claim = await stub.claim({ job: queued, receivedAt: 1, now: 10, leaseMs: LEASE });
    expect(claim).toMatchObject({ outcome: "skip", state: "cancelled" });
  });

  it("returns the cached ids that have not expired", async () => {
    const stub = ledger();
    await stub.putCache(
      [
        { key: "modal.app", value: "ap-1", ttlMs: 1000 },
        { key: "modal.image", value: "im-1", ttlMs: 10 },
      ],
      100,
    );
    const claim = await stub.claim({ job: job(), receivedAt: 1, now: 500, leaseMs: LEASE });
    expect(claim).toMatchObject({ outcome: "dispatch", cache: { "modal.app": "ap-1" } });
    expect(claim.outcome === "dispatch" && claim.cache["modal.image"]).toBe(undefined);
  });
});

describe("lifecycle", () => {
  it("moves started → running → finished and never back", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim({ job: queued, receivedAt: 1, now: 10, leaseMs: LEASE });
    await stub.recordStarted({
      jobId: queued.id,
      runnerName: "r",
      runnerId: 1,
      sandboxId: "sb",
      jitIssuedAt: 11,
      sandboxCreatedAt: 12,
      now: 12,
    });
    const running = await stub.recordLifecycle({
      job: { ...queued, runnerName: "r" },
      kind: "job.in_progress",
      receivedAt: 20,
      now: 20,
    });
    expect(running).toMatchObject({ state: "running", inProgressAt: 20 });
    const done = await stub.recordLifecycle({
      job: { ...queued, conclusion: "success" },
      kind: "job.completed",
      receivedAt: 30,
      now: 30,
    });
    expect(done).toMatchObject({ state: "finished", completedAt: 30, conclusion: "success" });
    const late = await stub.recordLifecycle({
      job: queued,
      kind: "job.in_progress",
      receivedAt: 40,
      now: 40,
    });
    expect(late.state).toBe("finished");
  });

  it("lets GitHub's in_progress override our failed: another runner took the job", async () => {
    const stub = ledger();
    const queued = job();
    await stub.claim({ job: queued, receivedAt: 1, now: 10, leaseMs: LEASE });
    const failed = await stub.fail(queued.id, "Modal refused the sandbox: INVALID_ARGUMENT", 20);
    expect(failed).toMatchObject({
      state: "failed",
      lastError: "Modal refused the sandbox: INVALID_ARGUMENT",
    });
    const running = await stub.recordLifecycle({
      job: queued,
      kind: "job.in_progress",
      receivedAt: 30,
      now: 30,
    });
    expect(running.state).toBe("running");
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
