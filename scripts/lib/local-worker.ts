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
import { OFFLINE_ENV } from "../../test/node/support/wrangler-dev.ts";
import { workerdPids } from "./proc.ts";

const run = promisify(execFile);

export interface LocalWorkerOptions {
  vars: Record<string, string>;
  /** Run the queue consumers too (dispatch); off to measure intake alone. */
  consumers?: boolean;
  /**
   * Hold each queue's messages this long, in batches of up to 100, instead of wrangler.toml's settings: work a
   * measured call sends to the queue then runs after the call, not during it.
   */
  holdBatchesSeconds?: number;
  /** Called with each line the Worker logs. */
  onLog?: (line: string) => void;
}

export interface LocalWorker {
  url: string;
  bundleBytes: number;
  /** The workerd processes serving this Worker. */
  pids(): number[];
  /**
   * Calls `method` of the Durable Object `name` in the namespace bound as `binding` (RPC through Miniflare's
   * proxy). Untyped: the Worker's classes are not visible to Node code, so callers parse what comes back.
   */
  call(binding: string, name: string, method: string, ...args: unknown[]): Promise<unknown>;
  /** Runs the Worker's `scheduled` handler once, as the Cron Trigger `cron` would. */
  scheduled(cron: string): Promise<{ outcome: string }>;
  stop(): Promise<void>;
}

/**
 * Calls `method` on something Miniflare's proxy handed over. Its Workers types (stubs, namespaces, Fetcher) are not
 * visible to Node code, so this goes by name and the caller parses the answer.
 */
async function invoke(target: unknown, method: string, ...args: unknown[]): Promise<unknown> {
  const reachable = (typeof target === "object" && target !== null) || typeof target === "function";
  const fn: unknown = reachable ? Reflect.get(target, method) : undefined;
  if (typeof fn !== "function") throw new Error(`the Worker's ${method} is not callable from Node`);
  return await Reflect.apply(fn, target, args);
}

type QueueConsumers = ReturnType<
  typeof unstable_getMiniflareWorkerOptions
>["workerOptions"]["queueConsumers"];

function held(consumers: QueueConsumers, seconds: number | undefined): QueueConsumers {
  if (seconds === undefined || consumers === undefined || Array.isArray(consumers)) return consumers;
  return Object.fromEntries(
    Object.entries(consumers).map(([queue, settings]) => [
      queue,
      { ...(typeof settings === "object" ? settings : {}), maxBatchSize: 100, maxBatchTimeout: seconds },
    ]),
  );
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
    queueConsumers:
      options.consumers === false
        ? undefined
        : held(workerOptions.queueConsumers, options.holdBatchesSeconds),
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
  return {
    url,
    bundleBytes: bundle.bytes,
    pids: () => ours,
    async call(binding, name, method, ...args) {
      const namespace: unknown = await mf.getDurableObjectNamespace(binding);
      const stub = await invoke(namespace, "get", await invoke(namespace, "idFromName", name));
      // The proxy hands back live stubs of what the object returned; a JSON round trip makes them plain data.
      return JSON.parse(JSON.stringify(await invoke(stub, method, ...args)));
    },
    async scheduled(cron) {
      const result = await invoke(await mf.getWorker(), "scheduled", { cron });
      const outcome =
        typeof result === "object" && result !== null ? Reflect.get(result, "outcome") : undefined;
      return { outcome: String(outcome) };
    },
    stop: () => mf.dispose(),
  };
}
