/**
 * The GitHub emulator refuses what GitHub refuses. JWTs here are signed with Node's crypto, independently of the
 * client's code, so a bug shared by client and emulator cannot hide.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { beforeAll, describe, expect, inject, it } from "vitest";
import * as z from "zod/mini";
import { githubEmulator } from "../emulators/github/control-client.ts";

const PAT = "ghp_0123456789abcdefABCDEF0123456789abcd";
const APP_ID = 42;
let keys: { privateKey: string; publicKey: string };
let counter = 0;

beforeAll(() => {
  keys = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
});

function jwt(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: "RS256", typ: "JWT" },
) {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), keys.privateKey).toString("base64url")}`;
}

const seconds = () => Math.floor(Date.now() / 1000);

async function appNamespace() {
  const ns = githubEmulator(inject("githubEmulatorUrl"), `emulator-${++counter}`);
  await ns.seed({
    apps: [{ id: APP_ID, clientId: "Iv23liEmulator", publicKey: keys.publicKey }],
    installations: [{ id: 7, appId: APP_ID, account: "octo-org" }],
  });
  return ns;
}

async function post(url: string, authorization?: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "user-agent": "emulator-test", ...(authorization ? { authorization } : {}), ...headers },
  });
  const body: unknown = await response.json();
  return { status: response.status, body, message: JSON.stringify(body) };
}

describe("App JWTs and installation tokens", () => {
  it("exchanges a valid JWT for an installation token that expires an hour later", async () => {
    const ns = await appNamespace();
    const now = seconds();
    const answer = await post(
      `${ns.url}/app/installations/7/access_tokens`,
      `Bearer ${jwt({ iat: now - 60, exp: now + 600, iss: APP_ID })}`,
    );
    expect(answer.status).toBe(201);
    const { token, expires_at: expiresAt } = z
      .object({ token: z.string(), expires_at: z.string() })
      .parse(answer.body);
    expect(token).toMatch(/^ghs_[0-9a-f]{36}$/);
    expect(Date.parse(expiresAt) / 1000).toBeGreaterThanOrEqual(now + 3599);
    expect(Date.parse(expiresAt) / 1000).toBeLessThanOrEqual(now + 3601);

    const runners = `${ns.url}/repos/octo-org/hello/actions/runners`;
    const get = (authorization: string) =>
      fetch(runners, { headers: { "user-agent": "t", authorization } }).then((response) => response.status);
    expect(await get(`token ${token}`)).toBe(200);
    expect(await get(`Bearer ${token}`)).toBe(200);
    await ns.setClock(3601);
    expect(await get(`Bearer ${token}`)).toBe(401);
  });

  it("accepts the client ID as iss, and an iss given as a string", async () => {
    const ns = await appNamespace();
    const now = seconds();
    for (const iss of ["Iv23liEmulator", String(APP_ID)]) {
      const answer = await post(
        `${ns.url}/app/installations/7/access_tokens`,
        `Bearer ${jwt({ iat: now, exp: now + 60, iss })}`,
      );
      expect(answer.status).toBe(201);
    }
  });

  it.each([
    {
      label: "iat in the future",
      claims: (now: number) => ({ iat: now + 30, exp: now + 300, iss: APP_ID }),
      says: "'Issued at'",
    },
    {
      label: "iat not an integer",
      claims: (now: number) => ({ iat: now - 0.5, exp: now + 300, iss: APP_ID }),
      says: "'Issued at'",
    },
    {
      label: "exp in the past",
      claims: (now: number) => ({ iat: now - 700, exp: now - 1, iss: APP_ID }),
      says: "'Expiration time'",
    },
    {
      label: "exp over 10 minutes ahead",
      claims: (now: number) => ({ iat: now - 60, exp: now + 660, iss: APP_ID }),
      says: "too far in the future",
    },
    {
      label: "an unknown App",
      claims: (now: number) => ({ iat: now - 60, exp: now + 300, iss: 99 }),
      says: "could not be decoded",
    },
  ])("refuses a JWT with $label", async ({ claims, says }) => {
    const ns = await appNamespace();
    const answer = await post(
      `${ns.url}/app/installations/7/access_tokens`,
      `Bearer ${jwt(claims(seconds()))}`,
    );
    expect(answer.status).toBe(401);
    expect(answer.message).toContain(says);
  });

  it("refuses a JWT that is not RS256, is signed by another key, or is sent with the token scheme", async () => {
    const ns = await appNamespace();
    const now = seconds();
    const claims = { iat: now - 60, exp: now + 300, iss: APP_ID };
    const other = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    const [input = ""] = jwt(claims).split(/\.(?=[^.]+$)/);
    const forged = `${input}.${sign("sha256", Buffer.from(input), other.privateKey).toString("base64url")}`;
    const url = `${ns.url}/app/installations/7/access_tokens`;

    expect((await post(url, `Bearer ${jwt(claims, { alg: "HS256", typ: "JWT" })}`)).status).toBe(401);
    expect((await post(url, `Bearer ${forged}`)).status).toBe(401);
    expect((await post(url, `token ${jwt(claims)}`)).status).toBe(401);
    expect((await post(url, `Bearer ${PAT}`)).status).toBe(401);
    expect((await post(url)).status).toBe(401);
    expect((await post(`${ns.url}/app/installations/8/access_tokens`, `Bearer ${jwt(claims)}`)).status).toBe(
      404,
    );
  });
});

describe("requests GitHub refuses", () => {
  it("refuses a request without a User-Agent", async () => {
    const ns = githubEmulator(inject("githubEmulatorUrl"), `emulator-${++counter}`);
    // Node's fetch always sends one; an empty value is what an absent header looks like here.
    const answer = await post(`${ns.url}/repos/o/r/actions/runners/generate-jitconfig`, `Bearer ${PAT}`, {
      "user-agent": "",
    });
    expect(answer.status).toBe(403);
    expect(answer.message).toContain("User-Agent");
  });

  it("refuses unknown and malformed tokens once tokens are seeded, and malformed ones always", async () => {
    const ns = githubEmulator(inject("githubEmulatorUrl"), `emulator-${++counter}`);
    const url = `${ns.url}/repos/o/r/actions/runners`;
    const status = (authorization: string) =>
      fetch(url, { headers: { "user-agent": "t", authorization } }).then((response) => response.status);
    expect(await status(`token ${PAT}`)).toBe(200);
    expect(await status("token not-a-token")).toBe(401);
    expect(await status(`Basic ${PAT}`)).toBe(401);
    await ns.seed({ tokens: [{ token: "github_pat_11AAAAAAA0123456789abcdef" }] });
    expect(await status(`token ${PAT}`)).toBe(401);
    expect(await status("Bearer github_pat_11AAAAAAA0123456789abcdef")).toBe(200);
  });

  it("answers 404 for unknown routes and keeps namespaces apart", async () => {
    const a = githubEmulator(inject("githubEmulatorUrl"), `emulator-${++counter}`);
    const b = githubEmulator(inject("githubEmulatorUrl"), `emulator-${++counter}`);
    await a.seed({ runners: [{ repository: "o/r", name: "only-in-a" }] });
    expect(await a.runners()).toHaveLength(1);
    expect(await b.runners()).toHaveLength(0);
    const unknown = await fetch(`${a.url}/repos/o/r/actions/secrets`, {
      headers: { "user-agent": "t", authorization: `Bearer ${PAT}` },
    });
    expect(unknown.status).toBe(404);
    await a.reset();
    expect(await a.runners()).toHaveLength(0);
    expect(await a.requests()).toHaveLength(0);
  });

  it("records requests with the authorization redacted unless asked, and fails the next N calls of a route", async () => {
    const ns = githubEmulator(inject("githubEmulatorUrl"), `emulator-${++counter}`);
    await ns.fail({ method: "GET", route: "/repos/{owner}/{repo}/actions/runners", count: 2, status: 502 });
    const url = `${ns.url}/repos/o/r/actions/runners`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await fetch(url, { headers: { "user-agent": "t", authorization: `token ${PAT}` } })).status,
      );
    }
    expect(statuses).toEqual([502, 502, 200]);
    const [first] = await ns.requests();
    expect(first).toMatchObject({
      method: "GET",
      route: "GET /repos/{owner}/{repo}/actions/runners",
      status: 502,
    });
    expect(first?.headers.authorization).toBe("token [redacted]");
    expect((await ns.requests({ secrets: true }))[0]?.headers.authorization).toBe(`token ${PAT}`);
  });
});

describe("runs, their jobs, and installations", () => {
  const get = (url: string, authorization = `token ${PAT}`) =>
    fetch(url, { headers: { "user-agent": "t", authorization } });

  it("lists a run's jobs: latest attempt by default, every attempt with filter=all, paged with Link", async () => {
    const ns = githubEmulator(inject("githubEmulatorUrl"), `emulator-${++counter}`);
    await ns.seed({
      jobs: [
        ...[1, 2, 3].map((id) => ({
          id,
          repository: "octo-org/hello",
          runId: 500,
          runAttempt: 1,
          status: "completed" as const,
          conclusion: "failure",
        })),
        ...[4, 5, 6].map((id) => ({ id, repository: "octo-org/hello", runId: 500, runAttempt: 2 })),
        { id: 7, repository: "octo-org/hello", runId: 501 },
      ],
    });
    const jobsOf = async (query: string) => {
      const response = await get(`${ns.url}/repos/octo-org/hello/actions/runs/500/jobs${query}`);
      const body = z
        .object({ total_count: z.int(), jobs: z.array(z.object({ id: z.int() })) })
        .parse(await response.json());
      return {
        ids: body.jobs.map((job) => job.id),
        total: body.total_count,
        link: response.headers.get("link"),
      };
    };
    expect(await jobsOf("")).toEqual({ ids: [4, 5, 6], total: 3, link: null });
    const all = await jobsOf("?filter=all&per_page=4");
    expect(all).toMatchObject({ ids: [1, 2, 3, 4], total: 6 });
    expect(all.link).toContain('rel="next"');
    expect((await jobsOf("?filter=all&per_page=4&page=2")).ids).toEqual([5, 6]);
    expect((await get(`${ns.url}/repos/octo-org/hello/actions/runs/500/jobs?filter=newest`)).status).toBe(
      422,
    );
    expect((await get(`${ns.url}/repos/octo-org/hello/actions/runs/999/jobs`)).status).toBe(404);
    expect((await get(`${ns.url}/repos/octo-org/other/actions/runs/500/jobs`)).status).toBe(404);
  });

  it("lists runs newest first with a status derived from their jobs, and filters by status or conclusion", async () => {
    const ns = githubEmulator(inject("githubEmulatorUrl"), `emulator-${++counter}`);
    await ns.seed({
      repositories: ["octo-org/hello"],
      tokens: [
        { token: PAT },
        { token: "github_pat_11NOACTIONS0000000000", permissions: { administration: "write" } },
      ],
      jobs: [
        { id: 1, repository: "octo-org/hello", runId: 10, status: "completed", conclusion: "success" },
        { id: 2, repository: "octo-org/hello", runId: 10, status: "completed", conclusion: "failure" },
        { id: 3, repository: "octo-org/hello", runId: 11, status: "in_progress" },
        { id: 4, repository: "octo-org/hello", runId: 11 },
        { id: 5, repository: "octo-org/hello", runId: 12, status: "waiting" },
      ],
    });
    const runs = async (query = "") =>
      z
        .object({
          total_count: z.int(),
          workflow_runs: z.array(
            z.object({ id: z.int(), status: z.string(), conclusion: z.nullable(z.string()) }),
          ),
        })
        .parse(await (await get(`${ns.url}/repos/octo-org/hello/actions/runs${query}`)).json());
    expect((await runs()).workflow_runs).toEqual([
      expect.objectContaining({ id: 12, status: "queued", conclusion: null }),
      expect.objectContaining({ id: 11, status: "in_progress", conclusion: null }),
      expect.objectContaining({ id: 10, status: "completed", conclusion: "failure" }),
    ]);
    expect((await runs("?status=queued")).workflow_runs.map((run) => run.id)).toEqual([12]);
    expect((await runs("?status=failure")).workflow_runs.map((run) => run.id)).toEqual([10]);
    expect((await runs("?per_page=1&page=2")).workflow_runs.map((run) => run.id)).toEqual([11]);
    expect((await get(`${ns.url}/repos/octo-org/hello/actions/runs?status=stuck`)).status).toBe(422);
    expect((await get(`${ns.url}/repos/octo-org/missing/actions/runs`)).status).toBe(404);
    expect(
      (await get(`${ns.url}/repos/octo-org/hello/actions/runs`, "Bearer github_pat_11NOACTIONS0000000000"))
        .status,
    ).toBe(403);
  });

  it("finds the App's installation on a repository's owner or an organization, with the App's JWT only", async () => {
    const ns = await appNamespace();
    await ns.seed({
      repositories: ["octo-org/hello", "mona/dotfiles"],
      repositoryMetadata: [{ repository: "mona/dotfiles", ownerType: "User" }],
      installations: [{ id: 8, appId: APP_ID, account: "mona" }],
    });
    const now = seconds();
    const appAuth = `Bearer ${jwt({ iat: now - 60, exp: now + 300, iss: APP_ID })}`;
    const installationId = async (path: string, authorization = appAuth) => {
      const response = await get(`${ns.url}${path}`, authorization);
      return response.status === 200
        ? z.object({ id: z.int() }).parse(await response.json()).id
        : response.status;
    };
    expect(await installationId("/repos/octo-org/hello/installation")).toBe(7);
    expect(await installationId("/repos/mona/dotfiles/installation")).toBe(8);
    expect(await installationId("/orgs/octo-org/installation")).toBe(7);
    // A user is not an organization; a repository that does not exist has no installation.
    expect(await installationId("/orgs/mona/installation")).toBe(404);
    expect(await installationId("/repos/octo-org/missing/installation")).toBe(404);
    expect(await installationId("/orgs/other-org/installation")).toBe(404);
    expect(await installationId("/repos/octo-org/hello/installation", `token ${PAT}`)).toBe(401);
    const token = z
      .object({ token: z.string() })
      .parse((await post(`${ns.url}/app/installations/7/access_tokens`, appAuth)).body).token;
    expect(await installationId("/orgs/octo-org/installation", `token ${token}`)).toBe(401);
  });
});
