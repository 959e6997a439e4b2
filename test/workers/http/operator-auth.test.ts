/**
 * Who may see `/status` and use `/api`: a bearer STATUS_TOKEN (or the session cookie its sign-in form sets), or —
 * when configured, instead — a Cloudflare Access token verified against the Access emulator's keys; with neither,
 * nothing is there. The real app answers; only its variables and its clock are the test's.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  accessClaims,
  accessSetup,
  operatorApp as appWith,
  isolatedUpstreams,
  NO_OPERATOR,
  ORIGIN,
  operatorRequest,
  STATUS_TOKEN,
  TOKEN_VARS,
} from "../../support/operator.ts";
import type { Vars } from "../../support/vars.ts";

/** The real app; what its page's deep checks call is this file's own namespace of the emulators. */
const operatorApp = (vars: Vars, now?: () => number) =>
  appWith({ ...isolatedUpstreams("operator-auth"), ...vars }, now);

const sessionCookie = (response: Response) => (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";

describe("with a STATUS_TOKEN", () => {
  const send = operatorApp(TOKEN_VARS);

  it("asks a script without a token for one, and sends a browser to the sign-in form", async () => {
    const api = await send(operatorRequest("/api/status"));
    expect(api.status).toBe(401);
    expect(api.headers.get("www-authenticate")).toBe('Bearer realm="actions-on-modal"');
    const page = await send(operatorRequest("/status"));
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/status/login");
  });

  it("refuses a wrong token with 401, on the API and the page alike", async () => {
    expect((await send(operatorRequest("/api/status", { token: `${STATUS_TOKEN}x` }))).status).toBe(401);
    expect((await send(operatorRequest("/status", { token: "not-the-token" }))).status).toBe(401);
  });

  it("answers the right bearer token", async () => {
    const api = await send(operatorRequest("/api/status", { token: STATUS_TOKEN }));
    expect(api.status).toBe(200);
    expect(api.headers.get("cache-control")).toBe("no-store");
    expect(await api.json()).toMatchObject({ totals: { owners: expect.any(Number) } });
    const page = await send(operatorRequest("/status", { token: STATUS_TOKEN }));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("signs a browser in with the form: an HttpOnly session cookie that is not the token, then the page", async () => {
    const form = await send(operatorRequest("/status/login"));
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="token"');

    const body = new URLSearchParams({ token: "wrong-token-0123456789" }).toString();
    const refused = await send(
      operatorRequest("/status/login", {
        method: "POST",
        body,
        contentType: "application/x-www-form-urlencoded",
      }),
    );
    expect(refused.status).toBe(401);
    expect(refused.headers.get("set-cookie")).toBeNull();

    const signedIn = await send(
      operatorRequest("/status/login", {
        method: "POST",
        body: new URLSearchParams({ token: STATUS_TOKEN }).toString(),
        contentType: "application/x-www-form-urlencoded",
      }),
    );
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe("/status");
    const setCookie = signedIn.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^aom_status=[0-9a-f]{64};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(STATUS_TOKEN);

    const page = await send(operatorRequest("/status", { cookie: sessionCookie(signedIn) }));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<h1");
    const forged = await send(operatorRequest("/status", { cookie: `aom_status=${"0".repeat(64)}` }));
    expect(forged.status).toBe(303);
  });

  it("signs out: the cookie is cleared", async () => {
    const out = await send(operatorRequest("/status/logout", { method: "POST" }));
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^aom_status=;.*Max-Age=0/);
  });

  it("takes state changes only as JSON from our own origin (or a script that sends none)", async () => {
    const post = (options: { contentType?: string; origin?: string; body?: string }) =>
      send(operatorRequest("/api/resume", { method: "POST", token: STATUS_TOKEN, body: "{}", ...options }));
    expect((await post({})).status).toBe(415);
    expect((await post({ contentType: "text/plain" })).status).toBe(415);
    expect((await post({ contentType: "application/x-www-form-urlencoded" })).status).toBe(415);
    expect((await post({ contentType: "application/json", origin: "https://evil.example" })).status).toBe(
      403,
    );
    expect((await post({ contentType: "application/json", origin: "null" })).status).toBe(403);
    expect((await post({ contentType: "application/json; charset=utf-8", origin: ORIGIN })).status).toBe(200);
    expect((await post({ contentType: "application/json" })).status).toBe(200);
    const bad = await send(
      operatorRequest("/api/pause", {
        method: "POST",
        token: STATUS_TOKEN,
        contentType: "application/json",
        body: '{"terminateIdle":"yes"}',
      }),
    );
    expect(bad.status).toBe(400);
  });
});

describe("with neither a token nor Access", () => {
  const send = operatorApp(NO_OPERATOR);

  it.each([
    ["GET", "/status"],
    ["GET", "/status/login"],
    ["POST", "/status/login"],
    ["GET", "/api/status"],
    ["POST", "/api/pause"],
    ["POST", "/api/resume"],
    ["POST", "/api/reconcile"],
  ])("%s %s is not there (404), even with a token", async (method, path) => {
    const body = method === "POST" ? { contentType: "application/json", body: "{}" } : {};
    const response = await send(operatorRequest(path, { method, token: STATUS_TOKEN, ...body }));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "not found" });
  });

  it("is the deployed Worker's default", async () => {
    for (const path of ["/status", "/status/login", "/api/status"]) {
      expect((await exports.default.fetch(`${ORIGIN}${path}`)).status).toBe(404);
    }
  });
});

describe("with Cloudflare Access", () => {
  let clock = Date.now();
  const { access, vars } = accessSetup(`operator-auth-${Date.now()}`);
  const send = operatorApp(vars, () => clock);
  const withJwt = async (claims: Record<string, unknown>, options: { kid?: string; path?: string } = {}) =>
    send(
      operatorRequest(options.path ?? "/api/status", {
        jwt: await access.sign(claims, options.kid === undefined ? {} : { kid: options.kid }),
      }),
    );

  it("lets a valid Access token through, to the API and the page", async () => {
    expect((await withJwt(accessClaims(clock))).status).toBe(200);
    const page = await withJwt(accessClaims(clock), { path: "/status" });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("operator@example.com");
  });

  it("asks for a token when there is none (401), and refuses the bearer token then", async () => {
    expect((await send(operatorRequest("/api/status"))).status).toBe(401);
    expect((await send(operatorRequest("/status"))).status).toBe(401);
    expect((await send(operatorRequest("/api/status", { token: STATUS_TOKEN }))).status).toBe(401);
    expect((await send(operatorRequest("/status/login"))).status).toBe(404);
  });

  it.each([
    ["expired", { exp: Math.floor(Date.now() / 1000) - 3600 }],
    ["not yet valid", { nbf: Math.floor(Date.now() / 1000) + 3600 }],
    ["for another application", { aud: ["b".repeat(64)] }],
    ["from another team", { iss: "https://other-team.cloudflareaccess.com" }],
    ["without an audience", { aud: undefined }],
  ])("refuses a token %s with 403", async (_name, overrides) => {
    const response = await withJwt(accessClaims(clock, overrides));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "the Access token was refused" });
  });

  it("refuses a forged signature, a token Access no longer vouches for, and garbage with 403", async () => {
    const state = await access.keys();
    const forged = await access.sign(accessClaims(clock), {
      kid: state.previous ?? "",
      header: { kid: state.current },
    });
    expect((await send(operatorRequest("/api/status", { jwt: forged }))).status).toBe(403);
    for (const jwt of ["e30.e30.!!!", "a.b", "not-a-jwt", `${forged.slice(0, -4)}@@@@`]) {
      expect((await send(operatorRequest("/api/status", { jwt }))).status).toBe(403);
    }
  });

  it("takes a token signed with a key rotated in after its keys were fetched, fetching them again", async () => {
    expect((await withJwt(accessClaims(clock))).status).toBe(200);
    const before = await access.keys();
    const rotated = await access.rotate();
    // Refetches are paced (at most one a minute), so that made-up key ids cannot flood Access with requests.
    clock += 61_000;
    expect((await withJwt(accessClaims(clock), { kid: rotated.current })).status).toBe(200);
    expect((await access.keys()).fetches).toBe(before.fetches + 1);
    // The key rotated out stays valid, as Access keeps it published for a week.
    expect((await withJwt(accessClaims(clock), { kid: rotated.previous ?? "" })).status).toBe(200);
    expect((await access.keys()).fetches).toBe(before.fetches + 1);
  });

  it("keeps the keys it has when Access cannot be reached, and says so when it has none", async () => {
    await access.failCerts({ status: 503, count: 3 });
    clock += 2 * 60 * 60 * 1000;
    expect((await withJwt(accessClaims(clock))).status).toBe(200);
    const { access: other, vars: otherVars } = accessSetup(`operator-auth-down-${Date.now()}`);
    await other.failCerts({ status: 503, count: 5 });
    const fresh = operatorApp(otherVars);
    const response = await fresh(
      operatorRequest("/api/status", { jwt: await other.sign(accessClaims(Date.now())) }),
    );
    expect(response.status).toBe(503);
  });

  it("takes state changes from our own origin only", async () => {
    const post = async (origin: string) =>
      send(
        operatorRequest("/api/resume", {
          method: "POST",
          jwt: await access.sign(accessClaims(clock)),
          contentType: "application/json",
          body: "{}",
          origin,
        }),
      );
    expect((await post("https://evil.example")).status).toBe(403);
    expect((await post(ORIGIN)).status).toBe(200);
  });
});
