/**
 * Self-hosted runners, with GitHub's validation and answers: JIT configs (201, 409 on a taken name, 404 for an
 * unknown repository or organization, 422 for a bad body or runner group), runner lookups with `name` /
 * `per_page` / `page` and `Link`, deletes (204, 404, 422 while busy), and the latest runner release.
 */
import {
  type ApiRequest,
  type ApiResponse,
  fail,
  integerParam,
  notFound,
  perPageOf,
  type Route,
  selfUrl,
} from "./api.ts";
import { authorize, type Requirement } from "./auth.ts";
import { encodedJitConfig, jitRunnerJson, linkHeader, releaseJson, runnerJson } from "./bodies.ts";
import { organizationExists, type RunnerRecord, repositoryExists } from "./state.ts";

const JIT_DOCS = "https://docs.github.com/rest/actions/self-hosted-runners";

type Scope = { key: string; account: string; permission: string; exists: boolean };

function scopeOf(request: ApiRequest): Scope {
  const { owner, repo, org } = request.params;
  if (org !== undefined) {
    return {
      key: `org:${org.toLowerCase()}`,
      account: org,
      permission: "organization_self_hosted_runners",
      exists: organizationExists(request.ns, org),
    };
  }
  return {
    key: `repo:${owner}/${repo}`.toLowerCase(),
    account: owner ?? "",
    permission: "administration",
    exists: repositoryExists(request.ns, owner ?? "", repo ?? ""),
  };
}

/** 404 for a missing scope, then the caller's access. */
function guard(request: ApiRequest, scope: Scope, level: "read" | "write"): ApiResponse | undefined {
  if (!scope.exists) return notFound(JIT_DOCS);
  const requirement: Requirement = { account: scope.account, permission: scope.permission, level };
  const denial = authorize(request.identity, requirement);
  return denial === undefined ? undefined : fail(denial.status, denial.message, JIT_DOCS);
}

function invalid(message: string): ApiResponse {
  return { status: 422, body: { message: `Invalid request.\n\n${message}`, documentation_url: JIT_DOCS } };
}

/** GitHub validates the JIT body against its schema: required fields, types, 1–100 labels; others ignored. */
function validateJitBody(
  body: unknown,
): ApiResponse | { name: string; groupId: number; labels: string[]; workFolder: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return invalid("Invalid input: the request body must be an object.");
  }
  const field = (name: string): unknown => Reflect.get(body, name);
  for (const name of ["name", "runner_group_id", "labels"]) {
    if (field(name) === undefined) return invalid(`"${name}" wasn't supplied.`);
  }
  const name = field("name");
  const groupId = field("runner_group_id");
  const labels = field("labels");
  const workFolder = field("work_folder");
  if (typeof name !== "string")
    return invalid(`For 'properties/name', ${JSON.stringify(name)} is not a string.`);
  if (name.trim() === "") return invalid(`For 'properties/name', "" is too short.`);
  if (typeof groupId !== "number" || !Number.isInteger(groupId)) {
    return invalid(`For 'properties/runner_group_id', ${JSON.stringify(groupId)} is not an integer.`);
  }
  if (!Array.isArray(labels) || !labels.every((label): label is string => typeof label === "string")) {
    return invalid(`For 'properties/labels', ${JSON.stringify(labels)} is not an array of strings.`);
  }
  if (labels.length < 1) return invalid(`For 'properties/labels', [] has fewer items than 1.`);
  if (labels.length > 100) return invalid(`For 'properties/labels', the array has more items than 100.`);
  if (workFolder !== undefined && typeof workFolder !== "string") {
    return invalid(`For 'properties/work_folder', ${JSON.stringify(workFolder)} is not a string.`);
  }
  return { name, groupId, labels, workFolder: workFolder ?? "_work" };
}

function generateJitConfig(request: ApiRequest): ApiResponse {
  const scope = scopeOf(request);
  const denied = guard(request, scope, "write");
  if (denied !== undefined) return denied;
  const input = validateJitBody(request.body);
  if ("status" in input) return input;
  const { ns } = request;
  // Repositories have only the default group; organizations have the groups seeded.
  const groupExists = scope.key.startsWith("org:") ? ns.runnerGroups.has(input.groupId) : input.groupId === 1;
  if (!groupExists) return invalid(`Runner group ${input.groupId} not found.`);
  const taken = [...ns.runners.values()].some(
    (runner) => runner.scope === scope.key && runner.name.toLowerCase() === input.name.toLowerCase(),
  );
  if (taken)
    return fail(409, `Already exists - A runner with the name ${input.name} already exists.`, JIT_DOCS);

  for (const label of input.labels) {
    if (!ns.labelIds.has(label.toLowerCase())) ns.labelIds.set(label.toLowerCase(), ns.nextId++);
  }
  const runner: RunnerRecord = {
    id: ns.nextId++,
    name: input.name,
    scope: scope.key,
    os: "unknown",
    status: "offline",
    busy: false,
    labels: input.labels,
    runnerGroupId: input.groupId,
    workFolder: input.workFolder,
    jobId: null,
    version: null,
    encodedJitConfig: "",
  };
  runner.encodedJitConfig = encodedJitConfig(
    runner,
    `https://pipelines.actions.githubusercontent.com/${ns.name}`,
  );
  ns.runners.set(runner.id, runner);
  return {
    status: 201,
    body: { runner: jitRunnerJson(runner, ns.labelIds), encoded_jit_config: runner.encodedJitConfig },
  };
}

function listRunners(request: ApiRequest): ApiResponse {
  const scope = scopeOf(request);
  const denied = guard(request, scope, "read");
  if (denied !== undefined) return denied;
  const query = request.url.searchParams;
  const name = query.get("name");
  const perPage = perPageOf(request.url);
  const page = integerParam(query.get("page"), 1);
  const runners = [...request.ns.runners.values()]
    .filter((runner) => runner.scope === scope.key && (name === null || runner.name === name))
    .sort((a, b) => a.id - b.id);
  const lastPage = Math.max(1, Math.ceil(runners.length / perPage));
  const link = linkHeader(selfUrl(request), page, lastPage);
  return {
    status: 200,
    body: {
      total_count: runners.length,
      runners: runners
        .slice((page - 1) * perPage, page * perPage)
        .map((runner) => runnerJson(runner, request.ns.labelIds)),
    },
    ...(link === undefined ? {} : { headers: { link } }),
  };
}

function findRunner(request: ApiRequest, scope: Scope): RunnerRecord | undefined {
  const runner = request.ns.runners.get(Number(request.params.runner_id));
  return runner?.scope === scope.key ? runner : undefined;
}

function getRunner(request: ApiRequest): ApiResponse {
  const scope = scopeOf(request);
  const denied = guard(request, scope, "read");
  if (denied !== undefined) return denied;
  const runner = findRunner(request, scope);
  return runner === undefined
    ? notFound(JIT_DOCS)
    : { status: 200, body: runnerJson(runner, request.ns.labelIds) };
}

function deleteRunner(request: ApiRequest): ApiResponse {
  const scope = scopeOf(request);
  const denied = guard(request, scope, "write");
  if (denied !== undefined) return denied;
  const runner = findRunner(request, scope);
  if (runner === undefined) return notFound(JIT_DOCS);
  if (runner.busy) {
    return {
      status: 422,
      body: {
        message: `Bad request - Runner "${runner.name}" is still running a job`,
        documentation_url: JIT_DOCS,
      },
    };
  }
  request.ns.runners.delete(runner.id);
  return { status: 204 };
}

function getLatestRelease(request: ApiRequest): ApiResponse {
  const { owner = "", repo = "" } = request.params;
  const repository = `${owner}/${repo}`.toLowerCase();
  const tagName = request.ns.releases.get(repository);
  if (tagName === undefined) return notFound();
  // Releases are seeded for public repositories: anyone may read them, but a JWT is not a token.
  const denial = authorize(request.identity, {
    account: owner,
    permission: "contents",
    level: "read",
    public: true,
  });
  if (denial !== undefined) return fail(denial.status, denial.message);
  return { status: 200, body: releaseJson(`${owner}/${repo}`, tagName, request.base, request.now) };
}

export const RUNNER_ROUTES: Route[] = [
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/actions/runners/generate-jitconfig",
    handle: generateJitConfig,
  },
  { method: "POST", template: "/orgs/{org}/actions/runners/generate-jitconfig", handle: generateJitConfig },
  { method: "GET", template: "/repos/{owner}/{repo}/actions/runners", handle: listRunners },
  { method: "GET", template: "/orgs/{org}/actions/runners", handle: listRunners },
  { method: "GET", template: "/repos/{owner}/{repo}/actions/runners/{runner_id}", handle: getRunner },
  { method: "GET", template: "/orgs/{org}/actions/runners/{runner_id}", handle: getRunner },
  { method: "DELETE", template: "/repos/{owner}/{repo}/actions/runners/{runner_id}", handle: deleteRunner },
  { method: "DELETE", template: "/orgs/{org}/actions/runners/{runner_id}", handle: deleteRunner },
  { method: "GET", template: "/repos/{owner}/{repo}/releases/latest", handle: getLatestRelease },
];
