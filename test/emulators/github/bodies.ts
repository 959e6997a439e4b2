/**
 * Response bodies in GitHub's shapes (its OpenAPI description's `runner`, `job`, `release`, `installation-token`,
 * `basic-error`); test/node/github-openapi.test.ts checks them against that description.
 */
import type { JobRecord, RunnerRecord } from "./state.ts";

const DOCS = "https://docs.github.com/rest";

/** GitHub's labels that describe the machine; JIT responses mark them `read-only`, the rest `custom`. */
const READ_ONLY_LABELS = new Set(["self-hosted", "x64", "arm64", "arm", "linux", "macos", "windows"]);

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function errorBody(status: number, message: string, documentationUrl = DOCS) {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

export function labelJson(id: number, name: string) {
  return { id, name, type: READ_ONLY_LABELS.has(name.toLowerCase()) ? "read-only" : "custom" };
}

function labels(runner: RunnerRecord, labelIds: ReadonlyMap<string, number>) {
  return runner.labels.map((name) => labelJson(labelIds.get(name.toLowerCase()) ?? 0, name));
}

/** As `GET …/actions/runners/{id}` and the list return it. */
export function runnerJson(runner: RunnerRecord, labelIds: ReadonlyMap<string, number>) {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.os,
    status: runner.status,
    busy: runner.busy,
    ephemeral: true,
    runner_group_id: runner.runnerGroupId,
    labels: labels(runner, labelIds),
    // Only set once the runner has connected.
    ...(runner.version === null ? {} : { version: runner.version }),
  };
}

/** As the 201 of `generate-jitconfig` returns it (GitHub's example has no group, ephemeral or version). */
export function jitRunnerJson(runner: RunnerRecord, labelIds: ReadonlyMap<string, number>) {
  return {
    id: runner.id,
    name: runner.name,
    os: runner.os,
    status: runner.status,
    busy: runner.busy,
    labels: labels(runner, labelIds),
  };
}

export function base64(text: string): string {
  return btoa(text);
}

/** Shaped like the real thing: base64 JSON of the runner's `.runner`, `.credentials` and RSA key files. */
export function encodedJitConfig(runner: RunnerRecord, serverUrl: string): string {
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(24)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
  const files = {
    ".runner": base64(
      JSON.stringify({
        agentId: String(runner.id),
        agentName: runner.name,
        poolId: String(runner.runnerGroupId),
        poolName: "Default",
        serverUrl,
        gitHubUrl: serverUrl,
        workFolder: runner.workFolder,
        ephemeral: "true",
      }),
    ),
    ".credentials": base64(
      JSON.stringify({
        scheme: "OAuth",
        data: { clientId: crypto.randomUUID(), authorizationUrl: serverUrl },
      }),
    ),
    ".credentials_rsaparams": base64(JSON.stringify({ d: secret, exponent: "AQAB" })),
  };
  return base64(JSON.stringify(files));
}

export function jobJson(job: JobRecord, base: string) {
  const repoUrl = `${base}/repos/${job.owner}/${job.repo}`;
  const html = `https://github.com/${job.owner}/${job.repo}`;
  const hasRunner = job.runnerId !== null;
  return {
    id: job.id,
    run_id: job.runId,
    run_url: `${repoUrl}/actions/runs/${job.runId}`,
    run_attempt: job.runAttempt,
    node_id: base64(`07:CheckRun${job.id}`),
    head_sha: "f83a356604ae3c5d03e1b46ef4d1ca77d64a90b0",
    url: `${repoUrl}/actions/jobs/${job.id}`,
    html_url: `${html}/actions/runs/${job.runId}/job/${job.id}`,
    status: job.status,
    conclusion: job.conclusion,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt ?? job.createdAt),
    completed_at: job.completedAt === null ? null : iso(job.completedAt),
    name: job.name,
    steps: [],
    check_run_url: `${repoUrl}/check-runs/${job.id}`,
    labels: job.labels,
    runner_id: job.runnerId,
    runner_name: job.runnerName,
    runner_group_id: hasRunner ? 1 : null,
    runner_group_name: hasRunner ? "Default" : null,
    workflow_name: "CI",
    head_branch: "main",
  };
}

/** GitHub's `simple-user`: a user, a bot or an organization as other objects embed it. */
export function simpleUser(login: string, id: number, base: string, type = "Bot") {
  const url = `${base}/users/${login}`;
  return {
    login,
    id,
    node_id: base64(`04:User${id}`),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url,
    html_url: `https://github.com/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type,
    site_admin: false,
  };
}

export function releaseJson(repository: string, tagName: string, base: string, now: number) {
  const id = 100_000 + ([...tagName].reduce((sum, char) => sum * 31 + char.charCodeAt(0), 7) % 100_000_000);
  const url = `${base}/repos/${repository}/releases/${id}`;
  const html = `https://github.com/${repository}`;
  return {
    url,
    html_url: `${html}/releases/tag/${tagName}`,
    assets_url: `${url}/assets`,
    upload_url: `https://uploads.github.com/repos/${repository}/releases/${id}/assets{?name,label}`,
    tarball_url: `${base}/repos/${repository}/tarball/${tagName}`,
    zipball_url: `${base}/repos/${repository}/zipball/${tagName}`,
    id,
    node_id: base64(`RE_${id}`),
    tag_name: tagName,
    target_commitish: "main",
    name: tagName,
    body: "",
    draft: false,
    prerelease: false,
    created_at: iso(now - 86_400_000),
    published_at: iso(now - 86_400_000),
    author: simpleUser("github-actions[bot]", 41898282, base),
    assets: [],
  };
}

/** `<…&page=2>; rel="next", <…&page=5>; rel="last"` (and `prev`/`first` past the first page). */
export function linkHeader(url: URL, page: number, lastPage: number): string | undefined {
  if (lastPage <= 1) return undefined;
  const at = (target: number) => {
    const copy = new URL(url);
    copy.searchParams.set("page", String(target));
    return copy.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${at(page - 1)}>; rel="prev"`);
  if (page < lastPage) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(lastPage)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`);
  return links.join(", ");
}
