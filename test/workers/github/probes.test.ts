/** The calls that prove credentials without changing anything: the App itself, a token's budget, a runner count. */
import { beforeAll, describe, expect, it } from "vitest";
import { PermanentError } from "../../../src/errors.ts";
import { type AppKeys, client, emulatorFor, generateAppKeys, PAT, rejection } from "./helpers.ts";

const APP_ID = 4242;
let keys: AppKeys;

beforeAll(async () => {
  keys = await generateAppKeys();
});

describe("GitHub client probes", () => {
  it("reads the App to its JWT, and what an installation token was granted", async () => {
    const emulator = emulatorFor("probe-app");
    await emulator.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [
        {
          id: 7,
          appId: APP_ID,
          account: "octo-org",
          permissions: { administration: "read", metadata: "read" },
        },
      ],
    });
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: undefined },
    });
    expect(await github.getApp()).toMatchObject({ id: APP_ID, installationsCount: 1 });
    expect(await github.forInstallation(7).installationPermissions()).toEqual({
      administration: "read",
      metadata: "read",
    });
    const routes = (await emulator.requests()).map((request) => [request.route, request.auth.kind]);
    expect(routes).toEqual([
      ["GET /app", "app"],
      ["POST /app/installations/{installation_id}/access_tokens", "app"],
    ]);
  });

  it("refuses to read installation permissions with a token, and getApp too", async () => {
    const emulator = emulatorFor("probe-pat-app");
    const github = client(emulator);
    const error = await rejection(github.installationPermissions());
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "app_auth_required" });
    expect(await rejection(github.getApp())).toMatchObject({ reason: "app_auth_required" });
    expect(await emulator.requests()).toEqual([]);
  });

  it("reads a token's budget without spending it, and a refused token as unauthenticated", async () => {
    const emulator = emulatorFor("probe-rate");
    await emulator.seed({ tokens: [{ token: PAT }] });
    expect(await client(emulator).getRateLimit()).toMatchObject({ limit: 5000, remaining: 5000 });
    const other = client(emulator, { auth: { kind: "token", token: "ghp_someotherTOKEN0123456789abcdef" } });
    expect(await rejection(other.getRateLimit())).toMatchObject({ reason: "unauthenticated", status: 401 });
  });

  it("counts a scope's runners with one call", async () => {
    const emulator = emulatorFor("probe-count");
    await emulator.seed({
      runners: [
        { repository: "octo-org/hello", name: "a" },
        { repository: "octo-org/hello", name: "b" },
        { organization: "octo-org", name: "c" },
      ],
    });
    const github = client(emulator);
    expect(await github.countRunners({ kind: "repo", owner: "octo-org", repo: "hello" })).toBe(2);
    expect(await github.countRunners({ kind: "org", org: "octo-org" })).toBe(1);
    expect(await emulator.requests()).toHaveLength(2);
  });
});
