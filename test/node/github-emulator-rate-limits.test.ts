/**
 * GitHub's rate limits per credential: every PAT, installation and App has its own hourly budget, and a seeded
 * secondary limit refuses bursts of JIT registrations with GitHub's 403 and `retry-after`, then counts the calls
 * a client makes while it was told to wait.
 */
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { appJwt, appKeys, call, namespace, PAT } from "./support/github.ts";

const OTHER_PAT = "ghp_ffffffffffffffffffffffffffffffffffff";
const jit = (name: string) => ({ name, runner_group_id: 1, labels: ["self-hosted"] });
const JIT_PATH = "/repos/octo-org/hello/actions/runners/generate-jitconfig";

describe("primary rate limit", () => {
  it("counts down per credential, each from the seeded budget", async () => {
    const ns = namespace("limits-primary");
    await ns.seed({ rateLimit: { limit: 100, remaining: 2, resetInSeconds: 600 } });
    const get = (token: string) =>
      call(ns.url, "GET", "/repos/octo-org/hello/actions/runners", { authorization: `token ${token}` });

    const first = await get(PAT);
    expect(first.headers.get("x-ratelimit-remaining")).toBe("1");
    expect(first.headers.get("x-ratelimit-limit")).toBe("100");
    expect((await get(OTHER_PAT)).headers.get("x-ratelimit-remaining")).toBe("1");
    expect((await get(PAT)).headers.get("x-ratelimit-remaining")).toBe("0");
    const refused = await get(PAT);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("API rate limit exceeded");
    expect(Number(refused.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000 + 590);
    expect((await get(OTHER_PAT)).status).toBe(200);
    // Still before the reset: this one was made while told to wait.
    await get(PAT);

    const usage = await ns.rateLimits();
    const mine = usage.find((entry) => entry.accepted === 2 && entry.primaryRefusals === 2);
    expect(mine).toMatchObject({
      credential: expect.stringMatching(/^pat:[0-9a-f]{16}$/),
      duringAnnouncedLimit: 1,
    });
    expect(usage).toHaveLength(2);
    expect(JSON.stringify(usage)).not.toContain(PAT);

    await ns.setClock(601);
    expect((await get(PAT)).headers.get("x-ratelimit-remaining")).toBe("99");
  });

  it("keeps an installation's and its App's budgets apart", async () => {
    const ns = namespace("limits-installation");
    const keys = appKeys();
    await ns.seed({
      apps: [{ id: 5, publicKey: keys.publicKey }],
      installations: [{ id: 50, appId: 5, account: "octo-org" }],
    });
    const token = z.object({ token: z.string() }).parse(
      (
        await call(ns.url, "POST", "/app/installations/50/access_tokens", {
          authorization: `Bearer ${appJwt(keys.privateKey, 5)}`,
        })
      ).body,
    ).token;
    await call(ns.url, "GET", "/repos/octo-org/hello/actions/runners", { authorization: `token ${token}` });
    await call(ns.url, "GET", "/repos/actions/runner/releases/latest");
    const usage = await ns.rateLimits();
    expect(usage.map((entry) => [entry.credential, entry.remaining])).toEqual([
      ["app:5", 4999],
      ["installation:50", 4999],
      ["anonymous", 4999],
    ]);
    const [request] = await ns.requests();
    expect(request).toMatchObject({ credential: "app:5", duringAnnouncedLimit: false });
  });
});

describe("secondary rate limit", () => {
  it("refuses JIT bursts over the limit with GitHub's 403, per credential, until retry-after has passed", async () => {
    const ns = namespace("limits-secondary");
    await ns.seed({ secondaryRateLimit: { limit: 2, windowSeconds: 60, retryAfterSeconds: 30 } });
    const register = (name: string, token = PAT) =>
      call(ns.url, "POST", JIT_PATH, { authorization: `token ${token}`, body: jit(name) });

    expect((await register("a")).status).toBe(201);
    expect((await register("b")).status).toBe(201);
    const refused = await register("c");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect(refused.body).toMatchObject({
      message: expect.stringMatching(
        /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\. If you reach out to GitHub Support for help, please include the request ID \S+\.$/,
      ),
      documentation_url:
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
    });
    expect(refused.text).toContain(refused.headers.get("x-github-request-id") ?? "missing");
    // Reads are not limited by default; they still count as made while told to wait.
    expect(
      (await call(ns.url, "GET", "/repos/octo-org/hello/actions/runners", { authorization: `token ${PAT}` }))
        .status,
    ).toBe(200);
    expect((await register("d")).status).toBe(403);
    expect((await register("e", OTHER_PAT)).status).toBe(201);

    await ns.setClock(31);
    // Past retry-after, but the two accepted calls are still within the 60 s window.
    expect((await register("f")).status).toBe(403);
    await ns.setClock(62);
    expect((await register("g")).status).toBe(201);

    const usage = await ns.rateLimits();
    const mine = usage.find((entry) => entry.secondaryRefusals > 0 && entry.accepted > 1);
    expect(mine).toMatchObject({
      accepted: 4,
      secondaryRefusals: 3,
      duringAnnouncedLimit: 2,
      primaryRefusals: 0,
    });
    const recorded = (await ns.requests()).map((request) => [request.status, request.duringAnnouncedLimit]);
    expect(recorded).toEqual([
      [201, false],
      [201, false],
      [403, false],
      [200, true],
      [403, true],
      [201, false],
      [403, false],
      [201, false],
    ]);
  });

  it("applies to the routes seeded instead of the JIT routes", async () => {
    const ns = namespace("limits-secondary-routes");
    await ns.seed({
      secondaryRateLimit: {
        limit: 1,
        windowSeconds: 60,
        retryAfterSeconds: 5,
        routes: ["GET /repos/{owner}/{repo}/actions/runners"],
      },
    });
    const list = () => call(ns.url, "GET", "/repos/o/r/actions/runners", { authorization: `token ${PAT}` });
    expect((await list()).status).toBe(200);
    expect((await list()).status).toBe(403);
    expect(
      (await call(ns.url, "POST", JIT_PATH, { authorization: `token ${PAT}`, body: jit("x") })).status,
    ).toBe(201);
  });
});
