/**
 * The ledger's cost stays flat as history grows: what a claim and a reconcile cycle read over the history-sized
 * tables goes through indexes over the rows in flight, and rows past retention are folded into daily aggregates and deleted. (How long
 * a claim takes at 1k / 100k / 1M rows is measured by `npm run bench:ledger`.)
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HOT_QUERIES } from "../../../src/ledger/capacity.ts";
import { ledgerFor } from "../../../src/ledger/job-ledger.ts";
import { getMetaNumber } from "../../../src/ledger/meta.ts";
import { RECONCILE_QUERIES } from "../../../src/ledger/reconcile-queries.ts";
import { DAY_MS, dayOf } from "../../../src/ledger/retention.ts";
import {
  boundZeros,
  claimOf,
  hotQueryRowsRead,
  queuedJob as queued,
  seedHistory,
} from "../../support/ledger-seed.ts";

const owner = () => `cost-${crypto.randomUUID().slice(0, 8)}`;

describe("the claim's cost", () => {
  it("reads through indexes only (the claim and the reconciler): the same rows at 1,000 and 20,000 finished jobs", async () => {
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
        for (const [name, statement] of Object.entries({ ...HOT_QUERIES, ...RECONCILE_QUERIES })) {
          const args = boundZeros(statement);
          const plan = sql
            .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement}`, ...args)
            .toArray()
            .map((row) => row.detail);
          // A bare `SCAN jobs` / `SCAN runners` reads every row of the owner's history.
          expect(
            plan.filter((detail) => /^SCAN (jobs|runners)$/.test(detail)),
            `${name}: ${plan.join("; ")}`,
          ).toEqual([]);
        }
        for (const [name, read] of Object.entries(hotQueryRowsRead(sql))) {
          rowsRead[name] = [...(rowsRead[name] ?? []), read];
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

  it("is the alarm's work: the Durable Object's alarm, its clock a fortnight and a day on, deletes what ended before", async () => {
    const login = owner();
    const stub = ledgerFor(env.LEDGER, login);
    const now = Date.now();
    const recent = now + 14 * DAY_MS;
    const ended: number[] = [];
    for (const at of [now, recent]) {
      const job = queued(login);
      await stub.claim(claimOf(job, at));
      await stub.fail(job.id, "Modal refused the sandbox", at + 1000);
      ended.push(job.id);
    }
    // The instance's clock moves on; an alarm is set (a day out on the real clock, so it only runs when told to).
    await runInDurableObject(stub, async (instance, state) => {
      instance.now = () => now + 15 * DAY_MS;
      await state.storage.setAlarm(Date.now() + DAY_MS);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.getJob(ended[0] ?? 0)).toBeNull();
    expect(await stub.getJob(ended[1] ?? 0)).toMatchObject({ state: "failed" });
    const days = await stub.daily(dayOf(now - DAY_MS));
    expect(days.find((day) => day.day === dayOf(now + 1000))).toMatchObject({ failed: 1 });
    // The next alarm is set by that clock too: retention comes back a day after the cycle's time, not the real one.
    const retentionAt = await runInDurableObject(stub, (_instance, state) =>
      getMetaNumber(state.storage.sql, "retention_at"),
    );
    expect(retentionAt).toBeGreaterThan(now + 15 * DAY_MS);
  });
});
