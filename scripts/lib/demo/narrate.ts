/**
 * The Worker logs one JSON object per line; the demo tells the story from those lines. Lines wrangler itself
 * prints as warnings or errors (`▲ [WARNING]`, `✘ [ERROR]`, with or without colour codes) are shown as they are:
 * a failure must never hide behind the narration.
 */
import * as z from "zod/mini";

const WorkerLogSchema = z.object({
  msg: z.optional(z.string()),
  level: z.optional(z.string()),
  jobId: z.optional(z.number()),
  runnerName: z.optional(z.string()),
  runnerId: z.optional(z.number()),
  sandboxId: z.optional(z.string()),
  reason: z.optional(z.string()),
  detail: z.optional(z.string()),
  startedFor: z.optional(z.number()),
  attempt: z.optional(z.number()),
  kind: z.optional(z.string()),
  state: z.optional(z.string()),
  conclusion: z.optional(z.string()),
  msQueued: z.optional(z.number()),
  msJit: z.optional(z.number()),
  msSandbox: z.optional(z.number()),
  msTotal: z.optional(z.number()),
  error: z.optional(z.string()),
  problems: z.optional(z.array(z.string())),
  sandboxes: z.optional(z.array(z.string())),
  action: z.optional(z.string()),
  statusCode: z.optional(z.number()),
});
export type WorkerLog = z.infer<typeof WorkerLogSchema>;

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes are what we strip.
const ANSI = /\u001b\[[0-9;]*m/g;

export function parseLog(line: string): WorkerLog | undefined {
  // wrangler colours a warn-level line and ends it with a reset code: the JSON is what lies between.
  const plain = line.replace(ANSI, "").trim();
  const start = plain.indexOf("{");
  if (start === -1) return undefined;
  try {
    const parsed = WorkerLogSchema.safeParse(JSON.parse(plain.slice(start)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A warning or error wrangler (or workerd) printed, without its colour codes; undefined for any other line. */
export function wranglerProblem(line: string): string | undefined {
  const plain = line.replace(ANSI, "").trim();
  return /^(▲ \[WARNING\]|✘ \[ERROR\]|X \[ERROR\]|\[ERROR\]|Error:|Uncaught)/.test(plain) ? plain : undefined;
}

export function narrate(
  log: WorkerLog,
  bold: (text: string) => string,
  dim: (text: string) => string,
): string | undefined {
  const job = bold(`job ${log.jobId}`);
  switch (log.msg) {
    case "runner started":
      return `${job}  accepted → queue ${log.msQueued} ms → JIT runner ${log.runnerName} (id ${log.runnerId}) ${log.msJit} ms → sandbox ${log.sandboxId} ${log.msSandbox} ms  ${dim(`(${log.msTotal} ms from webhook to sandbox)`)}`;
    case "runner adopted":
      return `${job}  runner ${log.runnerName} from an earlier attempt kept (${log.reason})`;
    case "job skipped":
      return `${job}  duplicate delivery: nothing to do (${log.reason})`;
    case "job is being dispatched by another attempt; checking back later":
      return `${job}  duplicate delivery while the first is being dispatched: checked again shortly`;
    case "job lifecycle":
      return log.kind === "job.completed"
        ? `${job}  GitHub: completed (${log.conclusion ?? "?"})${log.runnerName === undefined ? ", no runner" : ` on ${log.runnerName}`}`
        : log.kind === "job.in_progress"
          ? `${job}  GitHub: in progress on ${log.runnerName}`
          : undefined;
    case "runner taken by another job":
      return `${job}  ran on ${log.runnerName}, the runner started for job ${log.startedFor}`;
    case "job dispatched again":
      return `${job}  dispatched again (runner #${log.attempt}): ${log.reason}`;
    case "job left to another idle runner of ours":
      return `${job}  left to idle runner ${log.runnerName}`;
    case "runner removed":
      return `${bold(`runner ${log.runnerName}`)}  deregistered, then its sandbox terminated: ${log.reason}`;
    case "runner is busy; left alone":
      return `${bold(`runner ${log.runnerName}`)}  busy with a job: left alone`;
    case "job waits in the ledger":
    case "job parked":
      return `${job}  waits in the ledger: ${log.reason}${log.detail === undefined ? "" : ` (${log.detail})`}`;
    case "failed delivery redelivered":
      return `${bold("cron")}  asked GitHub to redeliver a failed ${log.action ?? ""} delivery (${log.statusCode === undefined || log.statusCode === 0 ? "it never reached the Worker" : `the Worker had answered ${log.statusCode}`})`;
    case "job already has a runner; the reconciler re-checks it now":
      return `${job}  queued again (a redelivery): it has a runner; re-checked, nothing to do unless that runner is gone`;
    case "attempt failed; will retry":
      return `${job}  attempt failed, will retry: ${log.error}`;
    case "dispatch failed":
    case "job failed":
      return `${job}  failed: ${log.error ?? log.reason}`;
    case "job refused":
      return `${job}  refused, nothing registered: ${log.reason}`;
    case "dispatch is not configured; the job waits in the ledger":
      return `${job}  not dispatched, configuration incomplete: ${(log.problems ?? []).join("; ")}`;
    default:
      return log.level === "error"
        ? `error: ${log.msg}${log.error === undefined ? "" : `: ${log.error}`}`
        : undefined;
  }
}
