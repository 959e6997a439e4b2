/**
 * One reconcile cycle over ledgers built by mixed-ledgers.ts, measured: each owner's ledger runs the cycle its
 * alarm would run (the `reconcile` RPC, at a `now` of our choosing), then the Cron Trigger runs once. Every step is
 * a window between two readings of the emulators' call logs, the clock and the workerd processes' CPU (/proc).
 *
 * The ledger cycles run one after another, each followed by a window of its own for the re-dispatch it caused (the
 * queue consumer: other invocations), so that each cycle's CPU can be read on its own; in production the alarms
 * run side by side. Calls between windows are what the Worker did unasked (an alarm on real time).
 */
import * as z from "zod/mini";
import { ledgerName, type MixedLedgers } from "./mixed-ledgers.ts";
import { cpuSeconds } from "./proc.ts";

/** The ledger's `CycleReport` (src/reconcile/owner-cycle.ts), as far as the bench reads it. */
const ReportSchema = z.object({
  ran: z.boolean(),
  githubCalls: z.number(),
  modalCalls: z.number(),
  checkedJobs: z.number(),
  retired: z.array(z.object({ runnerName: z.string(), reason: z.string() })),
  leftBusy: z.array(z.string()),
  redispatched: z.array(z.object({ jobId: z.number(), reason: z.string() })),
  failed: z.array(z.object({ jobId: z.number(), reason: z.string() })),
  deferred: z.number(),
  errors: z.array(z.string()),
});
export type CycleReport = z.infer<typeof ReportSchema>;

/** Lengths of the emulators' call logs. */
export interface Marks {
  github: number;
  modal: number;
}

export interface Window {
  from: Marks;
  to: Marks;
  wallMs: number;
  cpuMs: number;
}

export interface OwnerCycle {
  owner: string;
  report: CycleReport;
  cycle: Window;
  redispatch: Window;
}

export interface MeasuredCycle {
  owners: OwnerCycle[];
  cron: Window;
  /** Calls made outside every window. */
  unattributed: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runMeasuredCycle(ledgers: MixedLedgers, aheadMs: number): Promise<MeasuredCycle> {
  const { worker } = ledgers;
  const { github, modal } = ledgers.emulators;
  const marks = async (): Promise<Marks> => ({
    github: (await github.requests()).length,
    modal: (await modal.calls()).length,
  });
  const measure = async <T>(task: () => Promise<T>, since?: Marks): Promise<{ value: T; window: Window }> => {
    const from = since ?? (await marks());
    const cpu = cpuSeconds(worker.pids());
    const start = performance.now();
    const value = await task();
    const wallMs = performance.now() - start;
    const cpuMs = (cpuSeconds(worker.pids()) - cpu) * 1000;
    return { value, window: { from, to: await marks(), wallMs, cpuMs } };
  };
  const redispatched = async (report: CycleReport) => {
    const names = report.redispatched.map((entry) => `modal-${entry.jobId}-2`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const sandboxes = await modal.sandboxes();
      const running = new Set(sandboxes.filter((s) => s.result === undefined).map((s) => s.name));
      const registered = new Set((await github.runners()).map((runner) => runner.name));
      if (names.every((name) => running.has(name) && registered.has(name))) break;
      if (Date.now() > deadline) throw new Error("the re-dispatched jobs did not get their sandboxes");
      await pause(100);
    }
    await pause(300); // the consumer's last ledger write
  };
  const outside = (from: Marks, to: Marks) => to.github - from.github + to.modal - from.modal;

  await pause(2000);
  let last = await marks();
  let unattributed = 0;
  const owners: OwnerCycle[] = [];
  for (const owner of ledgers.owners) {
    const start = await marks();
    unattributed += outside(last, start);
    const cycle = await measure(async () =>
      ReportSchema.parse(
        await worker.call("LEDGER", ledgerName(owner), "reconcile", { now: Date.now() + aheadMs }),
      ),
    );
    const redispatch = await measure(() => redispatched(cycle.value), cycle.window.to);
    owners.push({ owner, report: cycle.value, cycle: cycle.window, redispatch: redispatch.window });
    last = redispatch.window.to;
  }
  const cronStart = await marks();
  unattributed += outside(last, cronStart);
  const cron = await measure(() => worker.scheduled("* * * * *"), cronStart);
  // Redeliveries the cron asked for are sent after GitHub answered it.
  await github.settleDeliveries();
  return { owners, cron: cron.window, unattributed };
}
