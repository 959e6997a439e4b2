/**
 * `POST /repos/{owner}/{repo}/check-runs`, as GitHub answers it: only an App installation with "Checks: write"
 * may create one (403 "Resource not accessible by integration" without it; PATs get GitHub's "You must
 * authenticate via a GitHub App."), the body is checked against GitHub's schema (required `name` and `head_sha`,
 * types, enumerations, 65535-character `summary` and `text`), `head_sha` must be a commit the emulator knows (the
 * commit of a seeded run, runs.ts), and a completed check run needs a conclusion. The refusal messages follow
 * GitHub's style; not each was seen for these exact fields.
 */
import { type ApiRequest, type ApiResponse, fail, notFound, type Route } from "./api.ts";
import { appJson } from "./app-bodies.ts";
import { authorize } from "./auth.ts";
import { base64, iso } from "./bodies.ts";
import { HEAD_SHA, runsOf } from "./runs.ts";
import { type CheckRunRecord, type Namespace, repositoryExists } from "./state.ts";

const DOCS = "https://docs.github.com/rest/checks/runs#create-a-check-run";
const STATUSES = ["queued", "in_progress", "completed"] as const;
const CONCLUSIONS = [
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "success",
  "skipped",
  "stale",
  "timed_out",
] as const;
const MAX_OUTPUT = 65_535;
const SHA = /^[0-9a-f]{40}$/;

function invalid(message: string): ApiResponse {
  return { status: 422, body: { message: `Invalid request.\n\n${message}`, documentation_url: DOCS } };
}

const isObject = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isOneOf = <T extends string>(values: readonly T[], value: unknown): value is T =>
  values.some((candidate) => candidate === value);

type Parsed = { ok: true; value: Omit<CheckRunRecord, "id" | "appId" | "owner" | "repo"> } | ApiResponse;

/** The body's fields, or GitHub's 422. Unknown fields (actions, annotations, images) are accepted and dropped. */
function parseBody(body: unknown, now: number): Parsed {
  if (!isObject(body)) return invalid("Invalid input: the request body must be an object.");
  const field = (name: string): unknown => Reflect.get(body, name);
  for (const name of ["name", "head_sha"]) {
    if (field(name) === undefined) return invalid(`"${name}" wasn't supplied.`);
  }
  for (const name of ["name", "head_sha", "details_url", "external_id", "started_at", "completed_at"]) {
    const value = field(name);
    if (value !== undefined && typeof value !== "string") {
      return invalid(`For 'properties/${name}', ${JSON.stringify(value)} is not a string.`);
    }
  }
  const status = field("status") ?? "queued";
  if (!isOneOf(STATUSES, status)) {
    return invalid(`For 'properties/status', ${JSON.stringify(status)} is not a possible value.`);
  }
  const conclusion = field("conclusion");
  if (conclusion !== undefined && !isOneOf(CONCLUSIONS, conclusion)) {
    return invalid(`For 'properties/conclusion', ${JSON.stringify(conclusion)} is not a possible value.`);
  }
  const completedAt = field("completed_at");
  if ((status === "completed" || completedAt !== undefined) && conclusion === undefined) {
    return invalid("No conclusion provided: a completed check run needs one.");
  }
  if (conclusion === "stale") return invalid("Only GitHub can set a conclusion of stale.");
  const output = field("output");
  let title: string | null = null;
  let summary: string | null = null;
  let text: string | null = null;
  if (output !== undefined) {
    if (!isObject(output))
      return invalid(`For 'properties/output', ${JSON.stringify(output)} is not an object.`);
    const part = (name: string): unknown => Reflect.get(output, name);
    for (const name of ["title", "summary"]) {
      if (part(name) === undefined) return invalid(`"${name}" wasn't supplied.`);
    }
    for (const name of ["title", "summary", "text"]) {
      const value = part(name);
      if (value !== undefined && typeof value !== "string") {
        return invalid(`For 'properties/${name}', ${JSON.stringify(value)} is not a string.`);
      }
      if (typeof value === "string" && name !== "title" && value.length > MAX_OUTPUT) {
        return invalid(`Only ${MAX_OUTPUT} characters are allowed; ${value.length} were supplied.`);
      }
    }
    title = String(part("title"));
    summary = String(part("summary"));
    text = typeof part("text") === "string" ? String(part("text")) : null;
  }
  const stringField = (name: string): string | null => {
    const value = field(name);
    return typeof value === "string" ? value : null;
  };
  // A conclusion completes the run, whatever `status` says (GitHub's documented behaviour).
  const completed = conclusion !== undefined;
  return {
    ok: true,
    value: {
      name: String(field("name")),
      headSha: String(field("head_sha")),
      externalId: stringField("external_id"),
      detailsUrl: stringField("details_url"),
      status: completed ? "completed" : status,
      conclusion: conclusion ?? null,
      startedAt: stringField("started_at") ?? iso(now),
      completedAt: completed ? (stringField("completed_at") ?? iso(now)) : null,
      output: { title, summary, text },
    },
  };
}

/** Whether `sha` is a commit of the repository: the commit of one of its runs. */
function knowsCommit(ns: Namespace, owner: string, repo: string, sha: string): boolean {
  return SHA.test(sha) && sha === HEAD_SHA && runsOf(ns, owner, repo).length > 0;
}

export function checkRunJson(ns: Namespace, run: CheckRunRecord, base: string) {
  const app = ns.apps.get(run.appId);
  const url = `${base}/repos/${run.owner}/${run.repo}/check-runs/${run.id}`;
  return {
    id: run.id,
    head_sha: run.headSha,
    node_id: base64(`CR_${run.id}`),
    external_id: run.externalId,
    url,
    html_url: `https://github.com/${run.owner}/${run.repo}/runs/${run.id}`,
    details_url: run.detailsUrl ?? (app === undefined ? null : `https://github.com/apps/${app.slug}`),
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      ...run.output,
      annotations_count: 0,
      annotations_url: `${url}/annotations`,
    },
    name: run.name,
    // One check suite per App and commit on GitHub; the emulator keeps one per check run.
    check_suite: { id: run.id + 1 },
    app: app === undefined ? null : appJson(ns, app, base),
    pull_requests: [],
  };
}

function createCheckRun(request: ApiRequest): ApiResponse {
  const { ns, identity } = request;
  const { owner = "", repo = "" } = request.params;
  if (!repositoryExists(ns, owner, repo)) return notFound(DOCS);
  if (identity.kind === "pat") return fail(403, "You must authenticate via a GitHub App.", DOCS);
  const denial = authorize(identity, { account: owner, permission: "checks", level: "write" });
  if (denial !== undefined) return fail(denial.status, denial.message, DOCS);
  if (identity.kind !== "installation") return fail(403, "You must authenticate via a GitHub App.", DOCS);
  const parsed = parseBody(request.body, request.now);
  if (!("ok" in parsed)) return parsed;
  const { value } = parsed;
  if (!knowsCommit(ns, owner, repo, value.headSha))
    return invalid(`No commit found for SHA: ${value.headSha}`);
  const appId = ns.installations.get(identity.installationId)?.appId ?? 0;
  const run: CheckRunRecord = { id: ns.nextEntityId++, appId, owner, repo, ...value };
  ns.checkRuns.push(run);
  return { status: 201, body: checkRunJson(ns, run, request.base) };
}

export const CHECK_RUN_ROUTES: Route[] = [
  { method: "POST", template: "/repos/{owner}/{repo}/check-runs", handle: createCheckRun },
];
