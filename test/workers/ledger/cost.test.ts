/**
 * The ledger's cost stays flat as history grows: what a claim reads over the history-sized tables goes through
 * indexes over the rows in flight, and rows past retention are folded into daily aggregates and deleted. (How long
 * a claim takes at 1k / 100k / 1M rows is measured by `npm run bench:ledger`.)
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { JobMessage, QueuedJob } from "../../../src/jobs/message.ts";
import { HOT_QUERIES } from "../../../src/ledger/capacity.ts";
import { type JobLedger, ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { DAY_MS, dayOf } from "../../../src/ledger/retention.ts";
import { uniqueJobId } from "../../support/webhook.ts";

const owner = () => `cost-${crypto.randomUUID().slice(0, 8)}`;

/** Finished jobs and the runners that ran them, written straight into the object's tables. */
async function seedHistory(stub: DurableObjectStub<JobLedger>, rows: number, endedAt: number): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    state.storage.transactionSync(() => {
      for (let index = 0; index < rows; index++) {
        const jobId = 1_000_000_000 + index;
        sql.exec(
          `INSERT INTO jobs (job_id, repository, run_id, run_attempt, labels, state, attempts, received_at,
             completed_at, ended_at, updated_at, conclusion)
           VALUES (?, 'acme/api', ?, 1, '["self-hosted","modal"]', 'finished', 1, ?, ?, ?, ?, 'success')`,
          jobId,
          jobId,
          endedAt - 60_000,
          endedAt,
          endedAt,
          endedAt,
        );
        sql.exec(
          `INSERT INTO runners (runner_name, job_id, attempt, repository, labels, reason, state, claimed_at,
             requested_at, done_at, updated_at)
           VALUES (?, ?, 1, 'acme/api', '[]', 'first dispatch', 'gone', ?, ?, ?, ?)`,
          `modal-${jobId}-1`,
          jobId,
          endedAt - 60_000,
          endedAt - 50_000,
          endedAt,
          endedAt,
        );
      }
    });
  });
}

function queued(login: string): QueuedJob {
  return {
    id: uniqueJobId(),
    runId: 1,
    runAttempt: 1,
    labels: ["self-hosted", "modal"],
    repository: `${login}/api`,
    owner: login,
    ownerType: "Organization",
    private: true,
  };
}

function claimOf(job: QueuedJob, now: number) {
  const message: JobMessage = { v: 1, kind: "job.queued", deliveryId: "d", receivedAt: now, job };
  return {
    job,
    receivedAt: now,
    now,
    leaseMs: 60_000,
    limits: { maxRunners: 50, runnerLifetimeMs: 3_600_000 },
    message,
  };
}

describe("the claim's cost", () => {
  it("reads through indexes only: the same rows at 1,000 and 20,000 finished jobs", async () => {
    const rowsRead: Record<string, number[]> = {};
    for (const history of [1_000, 20_000]) {
      const login = owner();
      const stub = ledgerFor(env.LEDGER, login);
      await seedHistory(stub, history, Date.now() - DAY_MS);
      // A few jobs in flight, the same in both ledgers.
      for (let index = 0; index < 5; index++) {
        const claim = await stub.claim(claimOf(queued(login), Date.now()));
        expect(claim.outcome).toBe("dispatch");
      }
      await runInDurableObject(stub, (_instance, state) => {
        const sql = state.storage.sql;
        for (const [name, statement] of Object.entries(HOT_QUERIES)) {
          const bound = statement.split("?").length - 1;
          const args = Array.from({ length: bound }, () => 0);
          const plan = sql
            .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement}`, ...args)
            .toArray()
            .map((row) => row.detail);
          // A bare `SCAN jobs` / `SCAN runners` reads every row of the owner's history.
          expect(
            plan.filter((detail) => /^SCAN (jobs|runners)$/.test(detail)),
            `${name}: ${plan.join("; ")}`,
          ).toEqual([]);
          const cursor = sql.exec(statement, ...args);
          cursor.toArray();
          rowsRead[name] = [...(rowsRead[name] ?? []), cursor.rowsRead];
        }
      });
    }
    for (const [name, [small, large]] of Object.entries(rowsRead)) {
      expect(large, name).toBe(small);
    }
  });
});

describe("retention", () => {
  it("deletes rows past LEDGER_RETENTION_DAYS when the alarm runs, and keeps their day as an aggregate", async () => {
    const login = owner();
    const stub = ledgerFor(env.LEDGER, login);
    // Jobs that end now, and one that ends a fortnight on; the alarm then runs a day after that. (Times in the past
    // would make the ledger's own alarm treat the jobs as long lost, and resend them.)
    const now = Date.now();
    const old = now;
    const recent = now + 14 * DAY_MS;
    const ended: number[] = [];
    for (const at of [old, old, recent]) {
      const job = queued(login);
      await stub.claim(claimOf(job, at));
      await stub.fail(job.id, "Modal refused the sandbox", at + 1000);
      ended.push(job.id);
    }
    await stub.reconcile({ now: now + 15 * DAY_MS });
    expect(await stub.getJob(ended[0] ?? 0)).toBeNull();
    expect(await stub.getJob(ended[1] ?? 0)).toBeNull();
    expect(await stub.getJob(ended[2] ?? 0)).toMatchObject({ state: "failed" });
    const days = await stub.daily(dayOf(old - DAY_MS));
    expect(days.find((day) => day.day === dayOf(old + 1000))).toMatchObject({ failed: 2 });
    expect(days.find((day) => day.day === dayOf(recent + 1000))).toMatchObject({ failed: 1 });
  });
});
