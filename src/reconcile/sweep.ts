/**
 * Sandboxes no ledger knows about. Every owner's ledger watches its own runners; this sweep lists every running
 * sandbox of our Modal app and hands each owner's to its ledger, which adopts those it has no row for (a row lost,
 * a crash between Modal's answer and our write) and removes them under the orphan rules — deregistering first.
 */
import type { JobLedger } from "../ledger/job-ledger.ts";
import type { Logger } from "../log.ts";
import type { SandboxProvider } from "../sandboxes/provider.ts";

export interface SweepDeps {
  sandboxes: SandboxProvider;
  appId: () => Promise<string>;
  ledger: (owner: string) => DurableObjectStub<JobLedger>;
  now: number;
  log: Logger;
}

export interface SweepReport {
  sandboxes: number;
  owners: number;
  adopted: number;
  modalCalls: number;
}

export async function sweepSandboxes(deps: SweepDeps): Promise<SweepReport> {
  const all = await deps.sandboxes.listRunners(await deps.appId(), {});
  const byOwner = new Map<
    string,
    { runnerName: string; sandboxId: string; repository: string; jobId: number }[]
  >();
  for (const sandbox of all) {
    const runnerName = sandbox.tags["runner-name"];
    const repository = sandbox.tags.repository;
    const match = runnerName === undefined ? null : /^modal-(\d+)-\d+$/.exec(runnerName);
    if (runnerName === undefined || repository === undefined || match === null) continue;
    const owner = (sandbox.tags.owner ?? repository.split("/")[0] ?? "").toLowerCase();
    if (owner === "") continue;
    const list = byOwner.get(owner) ?? [];
    list.push({ runnerName, sandboxId: sandbox.sandboxId, repository, jobId: Number(match[1]) });
    byOwner.set(owner, list);
  }
  let adopted = 0;
  for (const [owner, sandboxes] of byOwner) {
    adopted += await deps.ledger(owner).adoptSandboxes(sandboxes, deps.now);
  }
  if (adopted > 0) deps.log.warn("sandboxes unknown to their ledger adopted for removal", { adopted });
  return { sandboxes: all.length, owners: byOwner.size, adopted, modalCalls: 1 };
}
