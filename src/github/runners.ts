/**
 * Self-hosted runner endpoints, for a repository or an organization: register (JIT), look up, list, delete.
 * The 409 policy lives in jit.ts; this file is one call per function.
 */
import { PermanentError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Send } from "./credentials.ts";
import { collectPages } from "./pages.ts";
import { JitConfigSchema, parseResponse, type Runner, RunnerListSchema, toRunner } from "./schemas.ts";
import { describeScope, type RunnerScope } from "./scope.ts";
import type { OctokitRequest } from "./transport.ts";

const PER_PAGE = 100;
/** 100 pages of 100: far more runners than one deployment starts, and a bound on a misbehaving `Link`. */
const MAX_PAGES = 100;

export interface JitRequest {
  scope: RunnerScope;
  name: string;
  labels: readonly string[];
  runnerGroupId: number;
  workFolder?: string;
}

export interface CreatedJitConfig {
  kind: "created";
  runnerId: number;
  runnerName: string;
  /** A credential: pass it to the runner as a secret, never log it. */
  encodedJitConfig: string;
}

export type DeleteRunnerResult = "deleted" | "already_gone" | "busy";

export interface RunnerApi {
  /** Throws a `PermanentError` with status 409 when the name is taken. */
  createJitConfig(input: JitRequest): Promise<CreatedJitConfig>;
  /** Every runner of the scope, all pages; with `name`, GitHub's exact-name filter. */
  list(operation: string, scope: RunnerScope, name?: string): Promise<Runner[]>;
  /** How many runners the scope has: one page of one runner, GitHub's `total_count`. */
  count(scope: RunnerScope): Promise<number>;
  delete(scope: RunnerScope, runnerId: number): Promise<DeleteRunnerResult>;
}

export function runnerPermission(scope: RunnerScope): string {
  return scope.kind === "repo"
    ? `"Administration: read & write" on ${scope.owner}/${scope.repo} (fine-grained token or GitHub App), or the classic token scope "repo"`
    : `"Self-hosted runners: read & write" on the organization ${scope.org} (fine-grained token or GitHub App), or the classic token scope "admin:org"`;
}

/** The first page of a scope's runner list, with GitHub's query parameters (`per_page`, `name`). */
function listPage(scope: RunnerScope, query: { per_page: number; name?: string }) {
  return (request: OctokitRequest) =>
    scope.kind === "repo"
      ? request("GET /repos/{owner}/{repo}/actions/runners", {
          owner: scope.owner,
          repo: scope.repo,
          ...query,
        })
      : request("GET /orgs/{org}/actions/runners", { org: scope.org, ...query });
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof PermanentError && error.status === status;
}

export function createRunnerApi(send: Send, options: { baseUrl: string; logger: Logger }): RunnerApi {
  const spec = (operation: string, scope: RunnerScope) => ({
    operation,
    subject: describeScope(scope),
    permission: runnerPermission(scope),
  });

  return {
    async createJitConfig(input) {
      const { scope } = input;
      // GitHub's field names (checked against its OpenAPI description by @octokit/types and our Node test).
      const body = {
        name: input.name,
        runner_group_id: input.runnerGroupId,
        labels: [...input.labels],
        ...(input.workFolder === undefined ? {} : { work_folder: input.workFolder }),
      };
      const result = await send(
        {
          ...spec("generateJitConfig", scope),
          invalid: `RUNNER_GROUP_ID (${input.runnerGroupId}: the group must exist and be open to ${describeScope(scope)}) and the labels`,
        },
        (request) =>
          scope.kind === "repo"
            ? request("POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig", {
                owner: scope.owner,
                repo: scope.repo,
                ...body,
              })
            : request("POST /orgs/{org}/actions/runners/generate-jitconfig", { org: scope.org, ...body }),
      );
      const parsed = parseResponse(JitConfigSchema, "generateJitConfig", result.data);
      return {
        kind: "created",
        runnerId: parsed.runner.id,
        runnerName: parsed.runner.name,
        encodedJitConfig: parsed.encoded_jit_config,
      };
    },

    async list(operation, scope, name) {
      return collectPages({
        send,
        spec: spec(operation, scope),
        baseUrl: options.baseUrl,
        first: listPage(scope, { per_page: PER_PAGE, ...(name === undefined ? {} : { name }) }),
        items: (data) => parseResponse(RunnerListSchema, operation, data).runners.map(toRunner),
        maxPages: MAX_PAGES,
        logger: options.logger,
      });
    },

    async count(scope) {
      const result = await send(spec("countRunners", scope), listPage(scope, { per_page: 1 }));
      return parseResponse(RunnerListSchema, "countRunners", result.data).total_count;
    },

    async delete(scope, runnerId) {
      try {
        await send(spec("deleteRunner", scope), (request) =>
          scope.kind === "repo"
            ? request("DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}", {
                owner: scope.owner,
                repo: scope.repo,
                runner_id: runnerId,
              })
            : request("DELETE /orgs/{org}/actions/runners/{runner_id}", {
                org: scope.org,
                runner_id: runnerId,
              }),
        );
        return "deleted";
      } catch (error) {
        if (isStatus(error, 404)) return "already_gone";
        // GitHub documents one 422 here: "Runner … is still running a job". Reading every 422 as busy is the safe
        // side: the caller then leaves the runner, and its sandbox, alone.
        if (isStatus(error, 422)) return "busy";
        throw error;
      }
    },
  };
}
