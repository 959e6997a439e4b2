/**
 * The deep check's Modal side. Direct mode: a token pair Modal refuses (UNAUTHENTICATED), an environment it does
 * not know (NOT_FOUND), a token kept out of the environment (PERMISSION_DENIED). Launcher mode: Modal's proxy
 * refusing the proxy token (its 401), the launcher refusing the signature (LAUNCHER_SECRET, or the clock) — each
 * naming the check and the fix — and both modes healthy.
 */
import { describe, expect, it } from "vitest";
import { check, deployment, healthApp, names } from "./harness.ts";

const modalNames = (answer: Awaited<ReturnType<ReturnType<typeof healthApp>["deep"]>>) =>
  names(answer).filter((name) => name.startsWith("modal."));

describe("Modal checks, direct", () => {
  it("a token pair Modal refuses fails modal.auth (UNAUTHENTICATED) and checks no app", async () => {
    const setup = deployment("modal-401", { ALLOWED_REPOS: "acme/api" });
    await setup.modal.credentials("ak-anotherpair0001", "as-anotherpair0001");
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(modalNames(answer)).toEqual(["modal.auth"]);
    expect(check(answer, "modal.auth")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("UNAUTHENTICATED (16)"),
      fix: expect.stringContaining("MODAL_TOKEN_ID and MODAL_TOKEN_SECRET must be one token pair"),
    });
    expect(check(answer, "github.token").ok).toBe(true);
    expect((await setup.modal.calls()).map((call) => call.method)).toEqual(["AuthTokenGet"]);
  });

  it("an environment Modal does not know fails modal.app (NOT_FOUND) with how to create it", async () => {
    const setup = deployment("modal-env", { MODAL_ENVIRONMENT: "staging", ALLOWED_REPOS: "acme/api" });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "modal.auth").ok).toBe(true);
    expect(check(answer, "modal.app")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("NOT_FOUND (5)"),
      fix: expect.stringContaining("`modal environment create staging`"),
    });
    await setup.modal.environment("staging");
    const later = await healthApp().deep({ ...setup.env });
    expect(check(later, "modal.app")).toMatchObject({
      ok: true,
      detail: expect.stringContaining("environment staging"),
    });
  });

  it("a token kept out of the environment fails modal.app (PERMISSION_DENIED)", async () => {
    const setup = deployment("modal-403", { ALLOWED_REPOS: "acme/api" });
    await setup.modal.fail({
      method: "AppGetOrCreate",
      grpcCode: 7,
      grpcMessage: "no access to this environment",
    });
    const answer = await healthApp().deep(setup.env);
    expect(check(answer, "modal.app")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("PERMISSION_DENIED (7)"),
      fix: expect.stringContaining("the token may not use the workspace's default environment"),
    });
    // A health check reports what it sees: no retry of a refusal.
    expect((await setup.modal.calls("AppGetOrCreate")).length).toBe(1);
  });
});

describe("Modal checks, through the launcher", () => {
  it("a healthy launcher passes modal.launcher with one /app call", async () => {
    const setup = deployment("launcher-ok", { ALLOWED_REPOS: "acme/api" }, "launcher");
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(200);
    expect(modalNames(answer)).toEqual(["modal.launcher"]);
    expect((await setup.launcher.calls()).map((call) => [call.path, call.status])).toEqual([["/app", 200]]);
    expect(await setup.modal.calls()).toEqual([]);
  });

  it("Modal's proxy refusing the proxy token (401) names MODAL_PROXY_TOKEN_ID / _SECRET", async () => {
    const setup = deployment("launcher-proxy", { ALLOWED_REPOS: "acme/api" }, "launcher");
    await setup.launcher.settings({
      proxyTokenId: "wk-anotherproxy01",
      proxyTokenSecret: "ws-anotherproxy01",
    });
    const answer = await healthApp().deep(setup.env);
    expect(answer.status).toBe(503);
    expect(check(answer, "modal.launcher")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("HTTP 401 (proxy_unauthorized)"),
      fix: expect.stringContaining(
        "Modal's proxy refused the proxy token before the launcher saw the request",
      ),
    });
  });

  it("the launcher refusing the signature (401 bad_signature) names LAUNCHER_SECRET", async () => {
    const setup = deployment("launcher-secret", { ALLOWED_REPOS: "acme/api" }, "launcher");
    await setup.launcher.settings({ launcherSecret: "the-launcher-has-another-secret-0123" });
    const answer = await healthApp().deep(setup.env);
    expect(check(answer, "modal.launcher")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("HTTP 401 (bad_signature)"),
      fix: expect.stringContaining(
        "LAUNCHER_SECRET differs from LAUNCHER_SECRET in the launcher's Modal secret",
      ),
    });
    expect(answer.text).not.toContain("the-launcher-has-another-secret-0123");
  });

  it("an environment the launcher's workspace does not have fails modal.launcher (modal_rejected)", async () => {
    const setup = deployment(
      "launcher-env",
      { MODAL_ENVIRONMENT: "staging", ALLOWED_REPOS: "acme/api" },
      "launcher",
    );
    const answer = await healthApp().deep(setup.env);
    expect(check(answer, "modal.launcher")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("HTTP 422 (modal_rejected)"),
      fix: expect.stringContaining("MODAL_ENVIRONMENT must name an environment of the launcher's workspace"),
    });
    await setup.launcher.settings({ environments: ["staging"] });
    expect(check(await healthApp().deep({ ...setup.env }), "modal.launcher").ok).toBe(true);
  });

  it("a Worker clock ten minutes off (401 stale_timestamp) names the clock", async () => {
    const setup = deployment("launcher-clock", { ALLOWED_REPOS: "acme/api" }, "launcher");
    const answer = await healthApp({ now: () => Date.now() + 10 * 60_000 }).deep(setup.env);
    expect(check(answer, "modal.launcher")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("HTTP 401 (stale_timestamp)"),
      fix: expect.stringContaining("the Worker's clock and the launcher's differ by more than 300 s"),
    });
  });
});
