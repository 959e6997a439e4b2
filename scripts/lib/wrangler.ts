/**
 * The one way the operator scripts run wrangler against Cloudflare: `node_modules/.bin/wrangler` (or
 * `WRANGLER_BIN`, which the tests point at a fake), its output captured for parsing and, when asked, shown to
 * the operator as it comes. Secret values travel only on stdin; every line this runner prints passes through a
 * redactor that knows them, so not even an unexpected echo from wrangler can reach the terminal.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { OFFLINE_ENV } from "../../test/node/support/wrangler-dev.ts";
import { stripAnsi } from "./wrangler-output.ts";

const PROJECT_WRANGLER = fileURLToPath(new URL("../../node_modules/.bin/wrangler", import.meta.url));

export interface WranglerCall {
  /** Written to wrangler's stdin, then closed; `describe` is what the log shows instead of it. */
  stdin?: { text: string; describe: string };
  /** Show wrangler's output to the operator while it runs (commands that change things, and deploy). */
  echo?: boolean;
}

export interface WranglerResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, without colour codes, redacted: safe to show. */
  output: string;
}

export interface WranglerRunner {
  run(args: readonly string[], call?: WranglerCall): Promise<WranglerResult>;
}

export interface WranglerRunnerOptions {
  /** Defaults to `WRANGLER_BIN`, then the project's own wrangler. A `.js`/`.mjs` file is run with this Node. */
  bin?: string;
  /** Added to the environment (after the defaults below). */
  env?: Record<string, string>;
  /** Values that must never be printed; asked for at each line, so secrets generated later are covered. */
  secrets?: () => Iterable<string>;
  /** Where the runner's own lines go (the command being run, echoed output). */
  print?: (line: string) => void;
}

/** Replaces every known secret value (and every long line of a multi-line one, such as a PEM) in `text`. */
export function redact(text: string, secrets: Iterable<string>): string {
  const pieces = new Set<string>();
  for (const secret of secrets) {
    for (const piece of [secret, ...secret.split(/\r?\n/)]) {
      // Short pieces (a PEM's last line, an empty value) would blank out ordinary words.
      if (piece.trim().length >= 8) pieces.add(piece.trim());
    }
  }
  let result = text;
  for (const piece of [...pieces].sort((a, b) => b.length - a.length)) {
    result = result.split(piece).join("‹redacted›");
  }
  return result;
}

export function createWranglerRunner(options: WranglerRunnerOptions = {}): WranglerRunner {
  const bin = options.bin ?? process.env.WRANGLER_BIN ?? PROJECT_WRANGLER;
  const secrets = options.secrets ?? (() => []);
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  // wrangler's telemetry and update check are off unless the operator turned them on; colour is always off,
  // because its output is parsed.
  const env: NodeJS.ProcessEnv = {
    WRANGLER_SEND_METRICS: OFFLINE_ENV.WRANGLER_SEND_METRICS,
    WRANGLER_HIDE_BANNER: OFFLINE_ENV.WRANGLER_HIDE_BANNER,
    CLOUDFLARE_CF_FETCH_ENABLED: OFFLINE_ENV.CLOUDFLARE_CF_FETCH_ENABLED,
    ...process.env,
    NO_COLOR: "1",
    ...options.env,
  };
  delete env.FORCE_COLOR;

  return {
    run(args, call = {}) {
      const shown = `$ wrangler ${args.join(" ")}${call.stdin === undefined ? "" : ` < ${call.stdin.describe}`}`;
      print(redact(shown, secrets()));
      const [command, commandArgs] = /\.[cm]?js$/.test(bin)
        ? [process.execPath, [bin, ...args]]
        : [bin, [...args]];
      return new Promise((resolve, reject) => {
        const child = spawn(command, commandArgs, {
          env,
          stdio: [call.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        // Whole lines only, per stream: a secret split across two chunks is still one line to redact.
        const echoer = () => {
          let pending = "";
          const show = (line: string) => print(`  ${redact(stripAnsi(line), secrets())}`);
          return {
            write(chunk: string) {
              if (call.echo !== true) return;
              const lines = (pending + chunk).split("\n");
              pending = lines.pop() ?? "";
              for (const line of lines) show(line);
            },
            flush() {
              if (call.echo === true && pending !== "") show(pending);
              pending = "";
            },
          };
        };
        const echoStdout = echoer();
        const echoStderr = echoer();
        child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
          stdout += chunk;
          echoStdout.write(chunk);
        });
        child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
          stderr += chunk;
          echoStderr.write(chunk);
        });
        child.once("error", (error) => reject(new Error(`could not start ${bin}: ${error.message}`)));
        child.once("close", (code, signal) => {
          echoStdout.flush();
          echoStderr.flush();
          const output = redact(
            stripAnsi(`${stdout}${stdout.endsWith("\n") ? "" : "\n"}${stderr}`),
            secrets(),
          );
          resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr, output: output.trim() });
        });
        if (call.stdin !== undefined) child.stdin?.end(call.stdin.text);
      });
    },
  };
}
