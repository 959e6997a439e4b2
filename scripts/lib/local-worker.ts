/**
 * The production bundle (`wrangler deploy --dry-run`) run in workerd through Miniflare, configured from
 * wrangler.toml. Benchmarks use this rather than `wrangler dev`, whose proxy worker and log forwarding cost more
 * CPU per request than the Worker itself and would drown the figures.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { workerdPids } from "./proc.ts";
import { OFFLINE_ENV } from "./wrangler-dev.ts";

const run = promisify(execFile);

export interface LocalWorkerOptions {
  vars: Record<string, string>;
  /** Run the queue consumers too (dispatch); off to measure intake alone. */
  consumers?: boolean;
  /** Called with each line the Worker logs. */
  onLog?: (line: string) => void;
}

export interface LocalWorker {
  url: string;
  bundleBytes: number;
  /** The workerd processes serving this Worker. */
  pids(): number[];
  stop(): Promise<void>;
}

export async function buildBundle(): Promise<{ dir: string; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), "actions-on-modal-bundle-"));
  await run(join("node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", dir], {
    env: { ...process.env, ...OFFLINE_ENV },
  });
  return { dir, bytes: statSync(join(dir, "index.js")).size };
}

export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  const bundle = await buildBundle();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve("wrangler.toml"));
  const before = new Set(workerdPids(process.pid));
  const mf = new Miniflare({
    ...workerOptions,
    modules: true,
    scriptPath: join(bundle.dir, "index.js"),
    modulesRoot: bundle.dir,
    bindings: { ...workerOptions.bindings, ...options.vars },
    queueConsumers: options.consumers === false ? undefined : workerOptions.queueConsumers,
    host: "127.0.0.1",
    port: 0,
    cf: false,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const stream of [stdout, stderr]) {
        stream.on("data", (chunk: Buffer) => {
          for (const line of chunk.toString("utf8").split("\n"))
            if (line.trim() !== "") options.onLog?.(line);
        });
      }
    },
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const ours = workerdPids(process.pid).filter((pid) => !before.has(pid));
  return { url, bundleBytes: bundle.bytes, pids: () => ours, stop: () => mf.dispose() };
}
