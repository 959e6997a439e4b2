/**
 * What a `bench:dispatch --rate-limit` run is judged on, read once the run is over: the GitHub emulator's count of
 * refusals and of calls made while told to wait, and what the Worker's ledgers say failed or still waits.
 */
import * as z from "zod/mini";
import type { CredentialUsage, RecordedRequest } from "../../test/emulators/github/control.ts";
import { JIT_ROUTES } from "../../test/emulators/github/state.ts";

const JIT: ReadonlySet<string> = new Set(JIT_ROUTES);

/** What the GitHub emulator counted against its limits, over every credential. */
export function limitFigures(usage: CredentialUsage[], requests: RecordedRequest[]) {
  const sum = (pick: (entry: CredentialUsage) => number) =>
    usage.reduce((total, entry) => total + pick(entry), 0);
  const jit = requests.filter((request) => request.route !== null && JIT.has(request.route));
  return {
    secondary: sum((entry) => entry.secondaryRefusals),
    primary: sum((entry) => entry.primaryRefusals),
    refusals: sum((entry) => entry.secondaryRefusals + entry.primaryRefusals),
    duringAnnouncedLimit: sum((entry) => entry.duringAnnouncedLimit),
    jitAccepted: jit.filter((request) => request.status >= 200 && request.status < 300).length,
    jitRefused: jit.filter((request) => request.status === 403 || request.status === 429).length,
  };
}

/** Each owner's summary lists at most this many failed jobs (src/ledger/summary.ts). */
const FAILURES_LISTED = 50;

const StatusSchema = z.object({
  totals: z.object({ waiting: z.number() }),
  owners: z.array(
    z.object({
      owner: z.string(),
      failures: z.array(z.object({ jobId: z.number(), lastError: z.nullable(z.string()) })),
    }),
  ),
});

/**
 * Jobs dead-lettered, read from the ledgers through the operator API (`/api/status`, with the Worker's
 * STATUS_TOKEN): the dead-letter consumer — and a dispatch that gives up — marks the job `failed` in its owner's
 * ledger, the one strongly consistent record of it. Counting "job failed" log lines instead would undercount when
 * workerd's output splits a line across two chunks, and a figure that must be 0 must not undercount. The list is
 * capped per owner: `capped` says the count is a lower bound.
 */
export async function ledgerFigures(workerUrl: string, statusToken: string) {
  const response = await fetch(`${workerUrl}/api/status`, {
    headers: { authorization: `Bearer ${statusToken}` },
  });
  if (!response.ok) throw new Error(`/api/status answered ${response.status}`);
  const status = StatusSchema.parse(await response.json());
  return {
    failed: status.owners.reduce((total, owner) => total + owner.failures.length, 0),
    capped: status.owners.some((owner) => owner.failures.length >= FAILURES_LISTED),
    examples: status.owners.flatMap((owner) => owner.failures).slice(0, 5),
    waiting: status.totals.waiting,
  };
}
