/**
 * The demo has no real Actions runner: this plays the one inside each sandbox. It tells the GitHub emulator when
 * "the runner connected" (GitHub then routes a queued job to it, whichever job that is) and when "its job
 * finished" (the job completes, the ephemeral runner unregisters, its sandbox exits).
 */
import type { GitHubEmulatorHandle } from "../../../test/emulators/github/control-client.ts";

export interface DemoSandbox {
  id: string;
  name: string;
  /** As the Modal (or launcher) emulator recorded it: "8 cores, 32 GiB, L4". */
  size: string;
  running: boolean;
}

export interface SandboxSide {
  list(): Promise<DemoSandbox[]>;
  finish(sandboxId: string): Promise<void>;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`the demo waited in vain for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function createRunnerAgent(github: GitHubEmulatorHandle, sandboxes: SandboxSide) {
  const runnerNamed = async (name: string) => (await github.runners()).find((runner) => runner.name === name);
  return {
    /** Waits until a sandbox is running under the runner's name. */
    sandbox: (runnerName: string) =>
      until(`a sandbox named ${runnerName}`, async () =>
        (await sandboxes.list()).find((sandbox) => sandbox.name === runnerName && sandbox.running),
      ),
    /** Waits until the sandbox is gone (terminated or exited). */
    gone: (sandboxId: string) =>
      until(`sandbox ${sandboxId} to end`, async () =>
        (await sandboxes.list()).some((sandbox) => sandbox.id === sandboxId && sandbox.running)
          ? undefined
          : true,
      ),
    /** The runner in the sandbox connects with its JIT config: GitHub may now give it a job. */
    async connect(runnerName: string) {
      const runner = await until(`runner ${runnerName}`, () => runnerNamed(runnerName));
      await github.updateRunner(runner.id, { status: "online" });
    },
    /** The runner finishes the job it took; it unregisters and its sandbox exits. */
    async finish(runnerName: string, conclusion = "success") {
      const runner = await until(`runner ${runnerName} to take a job`, async () => {
        const found = await runnerNamed(runnerName);
        return found?.busy === true ? found : undefined;
      });
      await github.updateRunner(runner.id, { complete: { conclusion } });
      const sandbox = (await sandboxes.list()).find(
        (candidate) => candidate.name === runnerName && candidate.running,
      );
      if (sandbox !== undefined) await sandboxes.finish(sandbox.id);
    },
    runnerNamed,
  };
}

export type RunnerAgent = ReturnType<typeof createRunnerAgent>;
