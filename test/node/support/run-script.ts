/** Runs one of the operator scripts the way an operator does — `tsx scripts/<name>.ts …` — as a child process. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunScriptOptions {
  /** Added to (or, with `undefined`, removed from) this process's environment. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** A script still running: what it printed so far, a wait for a line, and its end. */
export interface RunningScript {
  readonly pid: number | undefined;
  /** Resolves with the first match of `pattern` in stdout, as soon as it is printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a signal (SIGINT, as Ctrl-C does). */
  signal(signal: NodeJS.Signals): void;
  done: Promise<ScriptResult>;
}

export function startScript(script: string, args: string[], options: RunScriptOptions = {}): RunningScript {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  // tsx runs the script in a child of its own and forwards signals to it.
  const child = spawn(`${PROJECT_ROOT}node_modules/.bin/tsx`, [script, ...args], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<ScriptResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} ${args.join(" ")} did not finish in time\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
      for (const listener of listeners) listener();
    });
  });
  return {
    pid: child.pid,
    done,
    signal: (signal) => child.kill(signal),
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern);
          if (match !== null) finish(() => resolve(match));
          else if (child.exitCode !== null || child.signalCode !== null)
            finish(() =>
              reject(new Error(`${script} ended before printing ${pattern}\n${stdout}\n${stderr}`)),
            );
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${script} did not print ${pattern}\n${stdout}\n${stderr}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
  };
}

export function runScript(
  script: string,
  args: string[],
  options: RunScriptOptions = {},
): Promise<ScriptResult> {
  return startScript(script, args, options).done;
}
