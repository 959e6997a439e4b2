import { beforeAll, describe, expect, it } from "vitest";
import { PermanentError } from "../../../src/errors.ts";
import { type AppKeys, client, emulatorFor, generateAppKeys, rejection } from "./helpers.ts";

const APP_ID = 314;
let keys: AppKeys;

beforeAll(async () => {
  keys = await generateAppKeys();
});

describe("getRepoInstallation / getOrgInstallation", () => {
  it("find the App's installation with its JWT, and answer undefined where it has none", async () => {
    const emulator = emulatorFor("installations");
    await emulator.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [
        { id: 31, appId: APP_ID, account: "octo-org" },
        { id: 32, appId: APP_ID, account: "mona" },
      ],
      repositoryMetadata: [{ repository: "mona/site", ownerType: "User" }],
    });
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: undefined },
    });

    expect(await github.getRepoInstallation("octo-org", "hello-world")).toEqual({ id: 31 });
    expect(await github.getRepoInstallation("mona", "site")).toEqual({ id: 32 });
    expect(await github.getOrgInstallation("octo-org")).toEqual({ id: 31 });
    expect(await github.getOrgInstallation("mona")).toBeUndefined();
    expect(await github.getRepoInstallation("elsewhere", "repo")).toBeUndefined();

    const requests = await emulator.requests();
    // Signed with the App's JWT each time; no installation token is ever fetched for these.
    expect(requests.map((request) => request.auth)).toEqual(Array(5).fill({ kind: "app", appId: APP_ID }));
    expect(requests.map((request) => request.route)).not.toContain(
      "POST /app/installations/{installation_id}/access_tokens",
    );
  });

  it("use the JWT even on a client acting for an installation", async () => {
    const emulator = emulatorFor("installations-bound");
    await emulator.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [{ id: 31, appId: APP_ID, account: "octo-org" }],
    });
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs8, installationId: 31 },
    });
    expect(await github.forInstallation(31).getOrgInstallation("octo-org")).toEqual({ id: 31 });
    expect((await emulator.requests()).map((request) => request.auth.kind)).toEqual(["app"]);
  });

  it("are not for PAT clients: a permanent error that says why, and no call", async () => {
    const emulator = emulatorFor("installations-pat");
    const error = await rejection(client(emulator).getRepoInstallation("octo-org", "hello-world"));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "app_auth_required", operation: "getRepoInstallation" });
    expect(String(error)).toContain("GitHub App auth");
    expect(await emulator.requests()).toEqual([]);
  });

  it("say what to check when GitHub refuses the JWT", async () => {
    const emulator = emulatorFor("installations-wrong-key");
    const other = await generateAppKeys();
    await emulator.seed({ apps: [{ id: APP_ID, publicKey: other.publicKey }] });
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: undefined },
    });
    const error = await rejection(github.getOrgInstallation("octo-org"));
    expect(error).toMatchObject({ reason: "unauthenticated", status: 401, operation: "getOrgInstallation" });
    expect(String(error)).toContain("GITHUB_APP_PRIVATE_KEY");
  });
});
