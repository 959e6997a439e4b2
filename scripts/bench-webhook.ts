/**
 * `npm run bench:webhook`: the Worker's production bundle in workerd (local Queue) under load from autocannon, for
 * a real queued delivery and a 1 MiB one, beside @octokit/webhooks' Node middleware verifying the same deliveries.
 * CPU is read from /proc for the server processes only (in-isolate timers do not advance without I/O in workerd).
 * Queue consumers are off: this measures intake — verify, filter, enqueue — not dispatch.
 *
 *   npm run bench:webhook -- [--duration 10] [--connections 16]
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { freePort } from "../test/node/support/ports.ts";
import { loadWebhookExamples } from "../test/node/support/webhook-examples.ts";
import { adaptWorkflowJob, signedHeaders } from "../test/support/payloads.ts";
import { startLocalWorker } from "./lib/local-worker.ts";
import { cpuSeconds, processTree } from "./lib/proc.ts";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
  },
});
const SECRET = "bench-webhook-secret-0123456789";
const run = promisify(execFile);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, bodyFile: string, headers: Record<string, string>): Promise<Result> {
  const args = ["-j", "-m", "POST", "-c", values.connections, "-d", values.duration, "-i", bodyFile];
  for (const [key, value] of Object.entries(headers)) args.push("-H", `${key}=${value}`);
  args.push(url);
  const { stdout } = await run(join("node_modules", ".bin", "autocannon"), args, {
    maxBuffer: 64 * 1024 * 1024,
  });
  const report = JSON.parse(stdout);
  return {
    rps: report.requests.average,
    p50: report.latency.p50,
    p99: report.latency.p99,
    requests: report.requests.total,
    non2xx: report.non2xx,
    errors: report.errors,
  };
}

async function measure(
  name: string,
  url: string,
  pids: () => number[],
  bodyFile: string,
  headers: Record<string, string>,
) {
  await load(url, bodyFile, headers).catch(() => undefined); // warm-up (JIT, isolate, key import)
  const before = cpuSeconds(pids());
  const result = await load(url, bodyFile, headers);
  const cpu = cpuSeconds(pids()) - before;
  return { name, ...result, cpuPer1000: result.requests > 0 ? (cpu / result.requests) * 1000 : Number.NaN };
}

async function startOctokit(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(join("node_modules", ".bin", "tsx"), ["scripts/lib/octokit-webhooks-server.ts"], {
    env: { ...process.env, WEBHOOK_SECRET: SECRET, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((ready, fail) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) ready();
    });
    child.once("exit", () => fail(new Error("the @octokit/webhooks server exited")));
  });
  return { url: `http://127.0.0.1:${port}/webhook`, child };
}

const dir = mkdtempSync(join(tmpdir(), "bench-webhook-"));
const examples = loadWebhookExamples();
const example = examples["workflow_job.queued"];
if (example === undefined) throw new Error("no queued example");
const payloads = {
  "queued (real payload)": JSON.stringify(adaptWorkflowJob(example, { jobId: 1 })),
  "queued, padded to 1 MiB": JSON.stringify(adaptWorkflowJob(example, { jobId: 2, padTo: 1024 * 1024 })),
};

const worker = await startLocalWorker({
  consumers: false,
  vars: {
    WEBHOOK_SECRET: SECRET,
    GITHUB_TOKEN: "unused",
    MODAL_TOKEN_ID: "unused",
    MODAL_TOKEN_SECRET: "unused",
  },
});
const octokit = await startOctokit();
const rows: Awaited<ReturnType<typeof measure>>[] = [];
try {
  const workerPids = () => worker.pids();
  const octokitPids = () => processTree(octokit.child.pid ?? 0).map((stat) => stat.pid);
  for (const [label, body] of Object.entries(payloads)) {
    const bodyFile = join(dir, `${rows.length}.json`);
    writeFileSync(bodyFile, body);
    const headers = await signedHeaders(body, {
      secret: SECRET,
      event: "workflow_job",
      deliveryId: crypto.randomUUID(),
    });
    rows.push(
      await measure(`worker (workerd)      ${label}`, `${worker.url}/webhook`, workerPids, bodyFile, headers),
    );
    rows.push(await measure(`@octokit/webhooks Node ${label}`, octokit.url, octokitPids, bodyFile, headers));
  }
} finally {
  octokit.child.kill("SIGTERM");
  await worker.stop();
}

console.log(
  `\nbench:webhook — Worker bundle ${(worker.bundleBytes / 1024).toFixed(0)} KiB; ${values.connections} connections, ${values.duration} s per row, ${process.arch}, node ${process.version}\n`,
);
console.log(
  [
    "server / payload".padEnd(50),
    "req/s".padStart(9),
    "p50 ms".padStart(8),
    "p99 ms".padStart(8),
    "CPU s/1k req".padStart(13),
    "non-2xx".padStart(8),
  ].join(" "),
);
for (const row of rows) {
  console.log(
    [
      row.name.padEnd(50),
      row.rps.toFixed(0).padStart(9),
      row.p50.toFixed(1).padStart(8),
      row.p99.toFixed(1).padStart(8),
      row.cpuPer1000.toFixed(3).padStart(13),
      String(row.non2xx + row.errors).padStart(8),
    ].join(" "),
  );
}
