/**
 * Removing one runner of ours, the only safe way: its registration is deleted first — GitHub refuses while the
 * runner runs a job (a job that may not be the one it was started for) — and only once that succeeded, or there
 * is no registration, is its sandbox terminated. A busy runner is left exactly as it is. Every path that removes
 * a runner (a cancelled job, a spare, a failed dispatch, the dead-letter queue, an orphan) goes through here.
 */
import type { GitHubClient } from "../github/client.ts";
import { runnerScopeForRepository } from "../github/scope.ts";
import type { Logger } from "../log.ts";
import type { SandboxProvider } from "../sandboxes/provider.ts";

export interface RetireDeps {
  /** The client of the runner's installation (or the PAT). */
  github: GitHubClient;
  sandboxes: SandboxProvider;
  /** The Modal app's handle (cached by the caller). */
  appId: () => Promise<string>;
  scopeKind: "repo" | "org";
  log: Logger;
}

export interface RetireTarget {
  runnerName: string;
  /** `owner/repo` of the job it was started for. */
  repository: string;
  runnerId: number | null;
  sandboxId: string | null;
  /** GitHub's runner list showed no registration under this name moments ago. */
  registrationAbsent?: boolean;
}

export type RetireOutcome =
  | {
      kind: "retired";
      registration: "deleted" | "already_gone";
      /** Sandboxes terminated (none when it had already ended). */
      terminated: string[];
      githubCalls: number;
      modalCalls: number;
    }
  | { kind: "busy"; runnerId: number; githubCalls: number };

export async function retireRunner(deps: RetireDeps, target: RetireTarget): Promise<RetireOutcome> {
  const log = deps.log.child({ runnerName: target.runnerName });
  const scope = runnerScopeForRepository(deps.scopeKind, target.repository);
  let githubCalls = 0;
  let registration: "deleted" | "already_gone" = "already_gone";
  if (target.registrationAbsent !== true) {
    let runnerId = target.runnerId;
    if (runnerId === null) {
      githubCalls += 1;
      const found = await deps.github.getRunnerByName(scope, target.runnerName);
      if (found?.busy === true) {
        log.info("runner is busy; left alone", { runnerId: found.id });
        return { kind: "busy", runnerId: found.id, githubCalls };
      }
      runnerId = found?.id ?? null;
    }
    if (runnerId !== null) {
      githubCalls += 1;
      const result = await deps.github.deleteRunner(scope, runnerId);
      if (result === "busy") {
        log.info("runner is busy; left alone", { runnerId });
        return { kind: "busy", runnerId, githubCalls };
      }
      registration = result;
      log.info("runner deregistered", { runnerId, result });
    }
  }

  // Only now may the sandbox go. Its id when we know it; otherwise whatever runs under the runner's name (a start
  // that was retried may have made one we never heard back from).
  let modalCalls = 0;
  const ids = new Set<string>(target.sandboxId === null ? [] : [target.sandboxId]);
  if (ids.size === 0) {
    modalCalls += 1;
    const appId = await deps.appId();
    for (const sandbox of await deps.sandboxes.listRunners(appId, { "runner-name": target.runnerName })) {
      ids.add(sandbox.sandboxId);
    }
  }
  const terminated: string[] = [];
  for (const sandboxId of ids) {
    modalCalls += 1;
    await deps.sandboxes.terminate(sandboxId);
    terminated.push(sandboxId);
    log.info("sandbox terminated", { sandboxId });
  }
  return { kind: "retired", registration, terminated, githubCalls, modalCalls };
}
