/**
 * A JIT config for a runner name, resolving GitHub's 409 ("Already exists - A runner with the name … already
 * exists"). The name is usually taken by our own earlier attempt whose answer was lost (a timeout, a redelivered
 * message). Offline and idle, that registration is dead weight: remove it and register again. Online or busy, a
 * runner with this name is already doing its work: report it and leave it alone.
 *
 * Trade-off, accepted: an offline registration can also belong to a sandbox that is still booting; removing it
 * makes that runner fail to connect, and the job waits for the runner registered here instead. Callers that use
 * one runner name per job attempt, recorded before the sandbox starts, keep that rare.
 */
import { PermanentError, RetryableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { CreatedJitConfig, JitRequest, RunnerApi } from "./runners.ts";
import { describeScope } from "./scope.ts";

export type JitConfigResult =
  | CreatedJitConfig
  /** A runner with this name is online or busy: it was started already, and is not ours to replace. */
  | { kind: "already_running"; runnerId: number; status: string; busy: boolean };

function invalid(message: string): PermanentError {
  return new PermanentError(`GitHub generateJitConfig: ${message}`, {
    service: "github",
    operation: "generateJitConfig",
    reason: "invalid_request",
  });
}

function isConflict(error: unknown): boolean {
  return error instanceof PermanentError && error.status === 409;
}

export async function generateJitConfig(
  runners: RunnerApi,
  input: JitRequest,
  logger: Logger,
): Promise<JitConfigResult> {
  // GitHub's own limits, checked here so a bad configuration fails with a clear message and no call.
  if (input.name.trim() === "") throw invalid("the runner name is empty");
  if (input.labels.length < 1 || input.labels.length > 100) throw invalid("GitHub takes 1 to 100 labels");
  if (!Number.isSafeInteger(input.runnerGroupId) || input.runnerGroupId < 1) {
    throw invalid("the runner group id must be a positive integer");
  }

  const log = logger.child({ runnerName: input.name, scope: describeScope(input.scope) });
  const register = async (): Promise<CreatedJitConfig | "conflict"> => {
    try {
      const created = await runners.createJitConfig(input);
      log.info("github runner registered", { runnerId: created.runnerId });
      return created;
    } catch (error) {
      if (isConflict(error)) return "conflict";
      throw error;
    }
  };

  const first = await register();
  if (first !== "conflict") return first;

  // Compared without case: a name that differs only in case must not send us round the loop again.
  const wanted = input.name.toLowerCase();
  const runner = (await runners.list("getRunnerByName", input.scope, input.name)).find(
    (candidate) => candidate.name.toLowerCase() === wanted,
  );
  if (runner !== undefined) {
    if (runner.status !== "offline" || runner.busy) {
      log.info("github runner already running", {
        runnerId: runner.id,
        status: runner.status,
        busy: runner.busy,
      });
      return { kind: "already_running", runnerId: runner.id, status: runner.status, busy: runner.busy };
    }
    log.info("github runner name taken by an offline runner; removing it", { runnerId: runner.id });
    if ((await runners.delete(input.scope, runner.id)) === "busy") {
      // It picked up a job between our two calls.
      return { kind: "already_running", runnerId: runner.id, status: runner.status, busy: true };
    }
  }

  const second = await register();
  if (second !== "conflict") return second;
  throw new RetryableError(
    `GitHub generateJitConfig (${describeScope(input.scope)}): the runner name is still taken after removing the old runner`,
    { service: "github", operation: "generateJitConfig", reason: "name_conflict", status: 409 },
  );
}
