/**
 * What an operator can do from `/api`: pause dispatch (optionally removing idle runners at once), resume, and run
 * a reconcile cycle of every owner now. A pause is kept in the control object and passed on to every ledger, each
 * of which then parks new claims; a ledger enrols with the control object on its first claim and takes over a
 * pause in force then.
 */
import { controlFor } from "../ledger/control.ts";
import { type JobLedger, ledgerFor } from "../ledger/job-ledger.ts";
import type { CycleReport } from "../reconcile/owner-cycle.ts";

const PARALLEL = 10;

async function eachOwner<R>(env: Env, work: (ledger: DurableObjectStub<JobLedger>) => Promise<R>) {
  const owners = await controlFor(env.CONTROL).owners();
  const results: R[] = [];
  for (let start = 0; start < owners.length; start += PARALLEL) {
    results.push(
      ...(await Promise.all(
        owners.slice(start, start + PARALLEL).map((owner) => work(ledgerFor(env.LEDGER, owner))),
      )),
    );
  }
  return { owners: owners.length, results };
}

export async function setPaused(
  env: Env,
  paused: boolean,
  now: number,
  options: { terminateIdle?: boolean | undefined } = {},
) {
  await controlFor(env.CONTROL).setPaused(paused);
  const { owners, results } = await eachOwner(env, async (ledger) => {
    const released = await ledger.setPaused(paused, now);
    const retiring = paused && options.terminateIdle === true ? await ledger.retireIdle(now) : 0;
    return { released, retiring };
  });
  return {
    paused,
    owners,
    released: results.reduce((sum, result) => sum + result.released, 0),
    retiring: results.reduce((sum, result) => sum + result.retiring, 0),
  };
}

export interface ReconcileAllReport {
  owners: number;
  ran: number;
  githubCalls: number;
  modalCalls: number;
  retired: number;
  redispatched: number;
  failed: number;
  resent: number;
  deferred: number;
  errors: string[];
}

export async function reconcileAll(env: Env): Promise<ReconcileAllReport> {
  const { owners, results } = await eachOwner(env, (ledger) => ledger.reconcile());
  const sum = (pick: (report: CycleReport) => number) =>
    results.reduce((total, report) => total + pick(report), 0);
  return {
    owners,
    ran: results.filter((report) => report.ran).length,
    githubCalls: sum((report) => report.githubCalls),
    modalCalls: sum((report) => report.modalCalls),
    retired: sum((report) => report.retired.length),
    redispatched: sum((report) => report.redispatched.length),
    failed: sum((report) => report.failed.length),
    resent: sum((report) => report.resent.length),
    deferred: sum((report) => report.deferred),
    errors: results.flatMap((report) => report.errors).slice(0, 20),
  };
}
