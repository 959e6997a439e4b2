/**
 * The status page, a pause and the cron's sweeps find owners through the control object. A ledger registers its
 * owner there on its first reconcile cycle — minutes after its first job, and never while the dispatch variables
 * are broken, which is exactly when an operator looks for the jobs that wait. So the webhook tells the control
 * object too, as it does of hooks: once per isolate per owner, after the response is on its way, never a cost per
 * job.
 */
import type { Context } from "hono";
import { controlFor } from "../ledger/control.ts";
import { errorFields } from "../log.ts";
import type { AppEnv } from "./context.ts";

const told = new Set<string>();

export function rememberOwner(c: Context<AppEnv>, owner: string, now: number): void {
  const key = owner.toLowerCase();
  if (told.has(key)) return;
  if (told.size > 1000) told.clear();
  told.add(key);
  const registered = controlFor(c.env.CONTROL)
    .registerOwner(key, now)
    .catch((error: unknown) => {
      // Told again by the next delivery of this owner to reach an isolate, or by the ledger's own cycle.
      told.delete(key);
      c.var.log.warn("could not record the job's owner", errorFields(error));
    });
  try {
    c.executionCtx.waitUntil(registered);
  } catch {
    // No execution context (a direct app.request in a script): the promise still runs.
  }
}
