/**
 * The Cron Trigger (every minute, `[triggers] crons` in wrangler.toml): the reconciler's deployment-wide part.
 * Each owner's ledger reconciles its own jobs and runners on its alarm; what no single ledger can see runs here,
 * each on its own period and bounded per cycle:
 *
 * - lost deliveries, every 5 minutes (deliveries.ts), and queued jobs of allowlisted repositories that no delivery
 *   announced (scan.ts) — both off with RECOVER_LOST_DELIVERIES=false;
 * - sandboxes of our Modal app that no ledger knows, every 10 minutes (sweep.ts).
 *
 * One cycle at a time (a lease in the control object); GitHub calls within the reconciler's budget share.
 */

import type { DispatchConfig } from "../config/dispatch.ts";
import { loadConfig, secretValues } from "../config.ts";
import { createRateLimitTracker, type RateLimitTracker } from "../dispatch/rate-limits.ts";
import { createServices, type Services } from "../dispatch/services.ts";
import type { GitHubClient } from "../github/client.ts";
import type { JobMessage } from "../jobs/message.ts";
import { controlFor } from "../ledger/control.ts";
import { budgetFor } from "../ledger/github-budget.ts";
import { ledgerFor } from "../ledger/job-ledger.ts";
import { createLogger, errorFields, type LogSink } from "../log.ts";
import { type DeliveryReport, recoverLostDeliveries } from "./deliveries.ts";
import { findUnknownQueuedJobs, type ScanReport } from "./scan.ts";
import { type SweepReport, sweepSandboxes } from "./sweep.ts";

export interface CronOptions {
  now?: () => number;
  fetch?: typeof fetch;
  logSink?: LogSink;
  /** The control object's name (tests keep their own). */
  controlName?: string;
}

export interface CronReport {
  ran: boolean;
  reason?: string;
  deliveries?: DeliveryReport;
  scan?: ScanReport;
  sweep?: SweepReport;
  errors: string[];
}

export const DELIVERY_SCAN_EVERY_MS = 5 * 60_000;
export const SANDBOX_SWEEP_EVERY_MS = 10 * 60_000;
const CRON_LEASE_MS = 10 * 60_000;

export function createCron(options: CronOptions = {}) {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const built = new WeakMap<DispatchConfig, { services: Services; tracker: RateLimitTracker }>();
  const installations = new Map<string, number | undefined>();

  return async function runCron(env: Env): Promise<CronReport> {
    const log = createLogger({ sink: options.logSink, now, secrets: secretValues(env) }).child({
      cron: true,
    });
    const config = loadConfig(env);
    if (!config.dispatch.ok || !config.intake.ok) {
      log.warn("cron: not configured; nothing to reconcile", {
        problems: config.problems.map((p) => p.variable),
      });
      return { ran: false, reason: "not configured", errors: [] };
    }
    const dispatch = config.dispatch.value;
    const intake = config.intake.value;
    const at = now();
    const control = controlFor(env.CONTROL, options.controlName);
    if (!(await control.acquire("cron", at, CRON_LEASE_MS))) {
      return { ran: false, reason: "another cycle is running", errors: [] };
    }
    let entry = built.get(dispatch);
    if (entry === undefined) {
      const tracker = createRateLimitTracker();
      entry = {
        tracker,
        services: createServices(dispatch, {
          fetch: doFetch,
          now,
          logger: log,
          onRateLimit: tracker.onRateLimit,
        }),
      };
      built.set(dispatch, entry);
    }
    const { services, tracker } = entry;
    const grant = async (client: GitHubClient, want: number) => {
      const credential = await client.credentialKey();
      return budgetFor(env.GITHUB_BUDGET, credential).grantReconcile({
        now: at,
        want,
        percent: dispatch.lifecycle.reconcileBudgetPercent,
        observed: tracker.observed(credential),
      });
    };
    const report: CronReport = { ran: true, errors: [] };
    try {
      if (dispatch.lifecycle.recoverLostDeliveries) {
        if (await control.due("deliveries", at, DELIVERY_SCAN_EVERY_MS)) {
          report.deliveries = await recoverLostDeliveries({
            control,
            github: services.github,
            grant,
            now: at,
            log,
          });
        }
        if (await control.due("scan", at, DELIVERY_SCAN_EVERY_MS)) {
          report.scan = await findUnknownQueuedJobs({
            intake,
            github: services.github,
            clientFor: async (owner, repo) => {
              if (dispatch.github.auth.kind === "token") return services.github;
              const key = owner.toLowerCase();
              if (!installations.has(key)) {
                installations.set(key, (await services.github.getRepoInstallation(owner, repo))?.id);
              }
              const id = installations.get(key);
              return id === undefined ? undefined : services.github.forInstallation(id);
            },
            ledger: (owner) => ledgerFor(env.LEDGER, owner),
            grant,
            send: async (messages: JobMessage[]) => {
              await env.JOBS_QUEUE.sendBatch(
                messages.map((body) => ({ body, contentType: "json" as const })),
              );
            },
            now: at,
            log,
          });
        }
      }
      if (await control.due("sweep", at, SANDBOX_SWEEP_EVERY_MS)) {
        const { appName, environment } = dispatch.modal;
        report.sweep = await sweepSandboxes({
          sandboxes: services.sandboxes,
          appId: () => services.sandboxes.ensureApp(appName, environment),
          ledger: (owner) => ledgerFor(env.LEDGER, owner),
          now: at,
          log,
        });
      }
    } catch (error) {
      report.errors.push(error instanceof Error ? error.message : String(error));
      log.error("cron cycle failed", errorFields(error));
    } finally {
      await tracker.flush(env.GITHUB_BUDGET);
      await control.releaseLease("cron");
    }
    log.info("cron cycle", {
      redelivered: report.deliveries?.redelivered.length,
      found: report.scan?.found.length,
      adopted: report.sweep?.adopted,
      errors: report.errors.length,
    });
    return report;
  };
}
