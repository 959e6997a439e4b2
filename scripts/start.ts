/**
 * `npm start`: the whole flow on this machine. Without credentials it starts the GitHub and Modal emulators on
 * loopback, runs the Worker with `wrangler dev` (workerd, local Queue and Durable Objects) pointed at them, sends
 * a few signed deliveries and prints each job's path as it happens; then it keeps running. With real credentials
 * in `.dev.vars` it runs the Worker against GitHub and Modal instead, and sends nothing.
 *
 *   npm start [-- --no-demo] [-- --modal=direct|launcher]   (or MODAL_MODE=launcher npm start)
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as z from "zod/mini";
import { DEMO_CREDENTIALS, startEmulators } from "./lib/emulators.ts";
import { adaptWorkflowJob, signedHeaders } from "./lib/payloads.ts";
import { loadWebhookExamples } from "./lib/webhook-examples.ts";
import { startWranglerDev } from "./lib/wrangler-dev.ts";

const { values } = parseArgs({
  options: {
    "no-demo": { type: "boolean", default: false },
    modal: { type: "string", default: process.env.MODAL_MODE ?? "direct" },
  },
});
if (values.modal !== "direct" && values.modal !== "launcher") {
  throw new Error("--modal must be direct or launcher");
}
const mode: "direct" | "launcher" = values.modal;
const DEMO_SECRET = "demo-webhook-secret-0123456789";
const NAMESPACE = "demo";

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

/** Real credentials in .dev.vars mean: run against GitHub and Modal, not the emulators. */
function hasRealCredentials(): boolean {
  if (!existsSync(".dev.vars")) return false;
  const vars = new Map(
    readFileSync(".dev.vars", "utf8")
      .split("\n")
      .map((line) => line.match(/^\s*([A-Z0-9_]+)\s*=\s*"?([^"]*)"?\s*$/))
      .filter((match): match is RegExpMatchArray => match !== null)
      .map((match) => [match[1] ?? "", match[2] ?? ""]),
  );
  const github = (vars.get("GITHUB_TOKEN") ?? "") !== "" || (vars.get("GITHUB_APP_ID") ?? "") !== "";
  const modal = (vars.get("MODAL_TOKEN_ID") ?? "") !== "" || (vars.get("MODAL_LAUNCHER_URL") ?? "") !== "";
  return github && modal;
}

const WorkerLogSchema = z.object({
  msg: z.optional(z.string()),
  jobId: z.optional(z.number()),
  runnerName: z.optional(z.string()),
  runnerId: z.optional(z.number()),
  sandboxId: z.optional(z.string()),
  reason: z.optional(z.string()),
  msQueued: z.optional(z.number()),
  msJit: z.optional(z.number()),
  msSandbox: z.optional(z.number()),
  msTotal: z.optional(z.number()),
  error: z.optional(z.string()),
  problems: z.optional(z.array(z.string())),
});
type WorkerLog = z.infer<typeof WorkerLogSchema>;

/** The Worker logs one JSON object per line; wrangler may prefix it. */
function parseLog(line: string): WorkerLog | undefined {
  const start = line.indexOf("{");
  if (start === -1) return undefined;
  try {
    const parsed = WorkerLogSchema.safeParse(JSON.parse(line.slice(start)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function narrate(log: WorkerLog): string | undefined {
  const job = `job ${log.jobId}`;
  switch (log.msg) {
    case "runner started":
      return `${bold(job)}  accepted → queue ${log.msQueued} ms → JIT runner ${log.runnerName} (id ${log.runnerId}) ${log.msJit} ms → sandbox ${log.sandboxId} ${log.msSandbox} ms  ${dim(`(${log.msTotal} ms from webhook to sandbox)`)}`;
    case "runner adopted":
      return `${bold(job)}  runner ${log.runnerName} from an earlier attempt kept (${log.reason})`;
    case "job skipped":
      return `${bold(job)}  duplicate delivery: nothing to do (${log.reason})`;
    case "job is being dispatched by another attempt; checking back later":
      return `${bold(job)}  duplicate delivery while the first is being dispatched: checked again shortly`;
    case "attempt failed; will retry":
      return `${bold(job)}  attempt failed, will retry: ${log.error}`;
    case "dispatch failed":
      return `${bold(job)}  failed: ${log.error}`;
    case "dispatch is not configured; the job stays queued":
      return `${bold(job)}  not dispatched, configuration incomplete: ${(log.problems ?? []).join("; ")}`;
    default:
      return undefined;
  }
}

if (hasRealCredentials()) {
  console.log(bold("actions-on-modal — .dev.vars has credentials: running against real GitHub and Modal"));
  const worker = await startWranglerDev({
    port: 8787,
    persistTo: ".wrangler/state",
    onLine: (line) => console.log(line),
  });
  console.log(`\nWorker: ${worker.url}  (webhook: ${worker.url}/webhook, health: ${worker.url}/healthz)`);
  console.log(
    "Expose it to GitHub with a tunnel (e.g. `npx wrangler dev --tunnel`), or deploy with `npx wrangler deploy`.",
  );
  process.on("SIGINT", () => void worker.stop().then(() => process.exit(0)));
} else {
  console.log(bold("actions-on-modal — offline demo against local emulators of GitHub and Modal"));
  const repositories = ["acme/api", "acme/web"];
  const emulators = await startEmulators({ namespace: NAMESPACE, repositories });
  console.log(`  GitHub emulator  ${emulators.github.url}  ${dim("(GitHub REST JSON)")}`);
  if (mode === "direct") {
    console.log(`  Modal emulator   ${emulators.modal.url}  ${dim("(Modal gRPC frames + protobuf)")}`);
  } else {
    console.log(
      `  Launcher         ${emulators.launcher.url}  ${dim("(modal/launcher.py's protocol: signed JSON)")}`,
    );
  }
  const other = mode === "direct" ? "--modal=launcher" : "--modal=direct";
  console.log(`  Modal mode       ${bold(mode)}  ${dim(`(npm start -- ${other} for the other adapter)`)}`);

  const worker = await startWranglerDev({
    vars: {
      WEBHOOK_SECRET: DEMO_SECRET,
      GITHUB_TOKEN: DEMO_CREDENTIALS.githubToken,
      GITHUB_API_URL: emulators.github.url,
      ...emulators.modalVars(mode),
      ALLOWED_REPOS: "acme/*",
    },
    onLine: (line) => {
      const log = parseLog(line);
      const story = log === undefined ? undefined : narrate(log);
      if (story !== undefined) console.log(`  ${story}`);
    },
  });
  console.log(
    `  Worker           ${worker.url}  ${dim("(wrangler dev: workerd, local Queue and Durable Objects)")}\n`,
  );

  const shutdown = async () => {
    await worker.stop();
    await emulators.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());

  if (!values["no-demo"]) {
    const example = loadWebhookExamples()["workflow_job.queued"];
    if (example === undefined) throw new Error("no queued example payload");
    const base = Date.now();
    const send = async (
      label: string,
      jobId: number,
      labels: string[],
      repository: string,
      deliveryId: string,
    ) => {
      const body = JSON.stringify(adaptWorkflowJob(example, { jobId, labels, repository }));
      const started = performance.now();
      const response = await fetch(`${worker.url}/webhook`, {
        method: "POST",
        headers: await signedHeaders(body, { secret: DEMO_SECRET, event: "workflow_job", deliveryId }),
        body,
      });
      const ms = (performance.now() - started).toFixed(0);
      console.log(`  → ${label.padEnd(44)} ${response.status} ${await response.text()} ${dim(`${ms} ms`)}`);
    };
    console.log(
      bold("Sending signed workflow_job deliveries (real payloads from @octokit/webhooks-examples):"),
    );
    const first = crypto.randomUUID();
    await send(
      `job ${base} queued, labels self-hosted,modal`,
      base,
      ["self-hosted", "modal"],
      "acme/api",
      first,
    );
    await send(
      `job ${base} again (GitHub redelivery, same id)`,
      base,
      ["self-hosted", "modal"],
      "acme/api",
      first,
    );
    await send(
      `job ${base + 1} queued, labels self-hosted,modal,linux`,
      base + 1,
      ["self-hosted", "modal", "linux"],
      "acme/web",
      crypto.randomUUID(),
    );
    await send(
      `job ${base + 2} queued, labels ubuntu-latest`,
      base + 2,
      ["ubuntu-latest"],
      "acme/api",
      crypto.randomUUID(),
    );
    console.log(bold("\nWhat the Worker did (from its log):"));

    // Let the queue deliver, then report what the emulators saw.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const jits = (await emulators.github.requests()).filter((request) =>
      request.path.endsWith("/generate-jitconfig"),
    );
    const sandboxes = await emulators.sandboxes(mode);
    console.log(
      bold("\nWhat GitHub and Modal saw:") +
        ` ${jits.length} JIT registrations, ${sandboxes.length} sandboxes ${dim("(2 of each expected: the redelivery and the job that is not ours start nothing)")}`,
    );
    for (const sandbox of sandboxes) {
      console.log(
        `  sandbox ${sandbox.id}  name ${sandbox.name}  tags ${JSON.stringify(sandbox.tags)}  env keys ${sandbox.envKeys.join(", ")}`,
      );
    }
  }
  console.log(
    bold(`\nThe Worker keeps running at ${worker.url}`) +
      " — Ctrl-C stops it and the emulators. Send another delivery with:",
  );
  console.log(
    `  npm run webhook:send -- --url ${worker.url}/webhook --secret ${DEMO_SECRET} --repo acme/api\n`,
  );
}
