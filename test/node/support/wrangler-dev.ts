/**
 * Runs the Worker locally with `wrangler dev` (workerd, local Queue and Durable Objects). wrangler is started
 * directly, not through npx, so that SIGINT reaches it and workerd does not outlive it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

export interface WranglerDevOptions {
  /** Path to a wrangler configuration; the project's wrangler.toml by default. */
  config?: string;
  port?: number;
  vars?: Record<string, string>;
  /** Local state directory; a fresh temporary one by default, so every run starts clean. */
  persistTo?: string;
  testScheduled?: boolean;
  /** Every line wrangler and the Worker print. */
  onLine?: (line: string) => void;
  readyTimeoutMs?: number;
}

export interface WranglerDev {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
} as const;

export async function startWranglerDev(options: WranglerDevOptions = {}): Promise<WranglerDev> {
  const port = options.port ?? (await freePort());
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    options.persistTo ?? mkdtempSync(join(tmpdir(), "actions-on-modal-state-")),
    "--show-interactive-dev-session=false",
    "--log-level",
    "log",
  ];
  if (options.config !== undefined) args.push("--config", options.config);
  if (options.testScheduled === true) args.push("--test-scheduled");
  for (const [key, value] of Object.entries(options.vars ?? {})) args.push("--var", `${key}:${value}`);

  const child = spawn(join("node_modules", ".bin", "wrangler"), args, {
    env: { ...process.env, ...OFFLINE_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const forward = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output = (output + text).slice(-8000);
    for (const line of text.split("\n")) if (line.trim() !== "") options.onLine?.(line);
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);

  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      await fetch(`${url}/healthz`);
      return { url, process: child, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`wrangler dev did not answer within the timeout:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
