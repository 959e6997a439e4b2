/**
 * Lost deliveries. GitHub never redelivers on its own: a delivery that failed (our Worker was down, answered 5xx,
 * or its secret was being rotated) is simply gone, and so is the job it announced. Every few minutes, for each hook
 * that delivers to us, the watcher lists the deliveries since its cursor and asks GitHub to redeliver each failed
 * `workflow_job` delivery that no later attempt delivered — at most `MAX_REDELIVERIES_PER_GUID` times per
 * delivery, `MAX_REDELIVERIES_PER_CYCLE` per cycle, and never while our own intake is misconfigured (nothing
 * would be accepted: those wait for the fix).
 *
 * Permissions: repository hooks need "Webhooks: read & write" on the repository (classic PAT: `admin:repo_hook`),
 * organization hooks "Webhooks: read & write" on the organization (`admin:org_hook`), the App's own hook the App's
 * JWT (no extra permission).
 */
import type { GitHubClient, HookDelivery, HookRef } from "../github/client.ts";
import type { Control, HookRecord } from "../ledger/control.ts";
import { errorFields, type Logger } from "../log.ts";

export const MAX_REDELIVERIES_PER_GUID = 3;
const MAX_REDELIVERIES_PER_CYCLE = 50;
const MAX_HOOKS_PER_CYCLE = 20;
const MAX_PAGES = 3;

export interface DeliveryRecoveryDeps {
  control: DurableObjectStub<Control>;
  github: GitHubClient;
  /** How many of `want` calls the credential's budget lets the reconciler make. */
  grant: (client: GitHubClient, want: number) => Promise<number>;
  now: number;
  log: Logger;
}

export interface DeliveryReport {
  hooks: number;
  listed: number;
  redelivered: { hook: string; deliveryId: number; guid: string; action: string | null }[];
  githubCalls: number;
  errors: string[];
}

export function hookRefOf(hook: HookRecord): HookRef {
  if (hook.kind === "app") return { kind: "app" };
  if (hook.kind === "organization") return { kind: "organization", org: hook.target, hookId: hook.hookId };
  const [owner = "", repo = ""] = hook.target.split("/");
  return { kind: "repository", owner, repo, hookId: hook.hookId };
}

const delivered = (delivery: HookDelivery) => delivery.statusCode >= 200 && delivery.statusCode < 300;

export async function recoverLostDeliveries(deps: DeliveryRecoveryDeps): Promise<DeliveryReport> {
  const report: DeliveryReport = { hooks: 0, listed: 0, redelivered: [], githubCalls: 0, errors: [] };
  const hooks = (await deps.control.hooks()).slice(0, MAX_HOOKS_PER_CYCLE);
  for (const hook of hooks) {
    if (report.redelivered.length >= MAX_REDELIVERIES_PER_CYCLE) break;
    const ref = hookRefOf(hook);
    const name = `${hook.kind} hook ${hook.hookId} (${hook.target})`;
    // The App's hook is read with the App's JWT; repository and organization hooks with the installation or PAT.
    const client =
      hook.kind === "app" ? deps.github : deps.github.forInstallation(hook.installationId ?? undefined);
    report.hooks += 1;
    try {
      // The budget is charged for what it grants: ask for each page as it is needed, then for the redeliveries
      // the listing found, never for calls that might not be made.
      const fresh: HookDelivery[] = [];
      let cursor: string | undefined;
      let complete = true;
      // A hook seen for the first time: only its latest page, so a deploy does not replay days of history.
      const pages = hook.cursor === null ? 1 : MAX_PAGES;
      for (let page = 0; page < pages; page++) {
        if ((await deps.grant(client, 1)) < 1) {
          // Deliveries not listed yet: the cursor stays where it was, and the next cycle lists them again.
          complete = false;
          break;
        }
        report.githubCalls += 1;
        const listed = await client.listHookDeliveries(ref, {
          perPage: 100,
          ...(cursor === undefined ? {} : { cursor }),
        });
        const newer = listed.deliveries.filter(
          (delivery) => hook.cursor === null || delivery.id > hook.cursor,
        );
        fresh.push(...newer);
        if (newer.length < listed.deliveries.length || listed.nextCursor === undefined) break;
        cursor = listed.nextCursor;
      }
      report.listed += fresh.length;
      const byGuid = new Map<string, HookDelivery[]>();
      for (const delivery of fresh)
        byGuid.set(delivery.guid, [...(byGuid.get(delivery.guid) ?? []), delivery]);
      const failed = [...byGuid]
        .map(([guid, attempts]) => ({
          guid,
          attempts,
          latest: attempts.reduce((a, b) => (b.id > a.id ? b : a)),
        }))
        .filter(({ attempts, latest }) => latest.event === "workflow_job" && !attempts.some(delivered));
      const room = MAX_REDELIVERIES_PER_CYCLE - report.redelivered.length;
      let budget =
        failed.length === 0 || room <= 0 ? 0 : await deps.grant(client, Math.min(failed.length, room));
      for (const { guid, latest } of failed) {
        if (report.redelivered.length >= MAX_REDELIVERIES_PER_CYCLE || budget <= 0) {
          // The rest next cycle: the cursor stays where it was.
          complete = false;
          break;
        }
        if (!(await deps.control.countRedelivery(guid, MAX_REDELIVERIES_PER_GUID, deps.now))) continue;
        budget -= 1;
        report.githubCalls += 1;
        await client.redeliver(ref, latest.id);
        report.redelivered.push({ hook: name, deliveryId: latest.id, guid, action: latest.action });
        deps.log.info("failed delivery redelivered", {
          hook: name,
          deliveryId: latest.id,
          deliveryGuid: guid,
          action: latest.action ?? undefined,
          statusCode: latest.statusCode,
        });
      }
      const newest = fresh.reduce<number | null>(
        (max, delivery) => (max === null || delivery.id > max ? delivery.id : max),
        null,
      );
      await deps.control.hookScanned(hook.kind, hook.hookId, complete ? newest : null, deps.now, null);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.errors.push(`${name}: ${message}`);
      deps.log.warn("could not look through a hook's deliveries", { hook: name, ...errorFields(error) });
      await deps.control.hookScanned(hook.kind, hook.hookId, null, deps.now, message);
    }
  }
  return report;
}
