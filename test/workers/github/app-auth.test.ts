import { beforeAll, describe, expect, it } from "vitest";
import { PermanentError } from "../../../src/errors.ts";
import type { RunnerScope } from "../../../src/github/scope.ts";
import type { Permissions } from "../../emulators/github/control.ts";
import type { GitHubEmulatorHandle } from "../../emulators/github/control-client.ts";
import { type AppKeys, captureLog, client, emulatorFor, generateAppKeys, rejection } from "./helpers.ts";

const APP_ID = 123456;
const repo = { kind: "repo", owner: "octo-org", repo: "hello-world" } as const;
const org = { kind: "org", org: "octo-org" } as const;
const jit = (name: string) => ({ scope: repo, name, labels: ["self-hosted", "modal"], runnerGroupId: 1 });

let keys: AppKeys;
let otherKeys: AppKeys;

beforeAll(async () => {
  [keys, otherKeys] = await Promise.all([generateAppKeys(), generateAppKeys()]);
});

async function appEmulator(label: string, publicKey = keys.publicKey): Promise<GitHubEmulatorHandle> {
  const emulator = emulatorFor(label);
  await emulator.seed({
    apps: [{ id: APP_ID, publicKey }],
    installations: [
      { id: 11, appId: APP_ID, account: "octo-org" },
      { id: 22, appId: APP_ID, account: "other-org" },
    ],
  });
  return emulator;
}

const exchanges = async (emulator: GitHubEmulatorHandle) =>
  (await emulator.requests()).filter(
    (request) => request.route === "POST /app/installations/{installation_id}/access_tokens",
  );

describe("GitHub App auth", () => {
  it.each([
    { format: "PKCS#1, as GitHub issues it", pick: (k: AppKeys) => k.pkcs1 },
    { format: "PKCS#8", pick: (k: AppKeys) => k.pkcs8 },
    {
      format: "PKCS#1 with its line breaks written as \\n",
      pick: (k: AppKeys) => k.pkcs1.replace(/\n/g, "\\n"),
    },
  ])("signs a JWT with a $format key and calls with an installation token", async ({ pick }) => {
    const emulator = await appEmulator("app-key");
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: pick(keys), installationId: 11 },
    });

    expect((await github.generateJitConfig(jit("app-1"))).kind).toBe("created");
    const requests = await emulator.requests();
    expect(requests.map((request) => [request.route, request.status, request.auth])).toEqual([
      ["POST /app/installations/{installation_id}/access_tokens", 201, { kind: "app", appId: APP_ID }],
      [
        "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
        201,
        { kind: "installation", installationId: 11 },
      ],
    ]);
  });

  it("reuses the installation token, also across concurrent calls", async () => {
    const emulator = await appEmulator("app-cache");
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: 11 },
    });

    await Promise.all([1, 2, 3, 4, 5].map((i) => github.getRunnerByName(repo, `modal-${i}`)));
    await github.generateJitConfig(jit("app-cache-1"));
    await github.listRunners(repo);
    expect(await exchanges(emulator)).toHaveLength(1);
    expect(
      (await emulator.requests()).filter((request) => request.auth.kind === "installation"),
    ).toHaveLength(7);
  });

  it("refreshes the token shortly before it expires, and again after", async () => {
    const emulator = await appEmulator("app-expiry");
    const start = Date.now();
    let offsetSeconds = 0;
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs8, installationId: 11 },
      now: () => start + offsetSeconds * 1000,
    });
    // Both clocks move together, as GitHub's and ours do.
    const advanceTo = async (seconds: number) => {
      offsetSeconds = seconds;
      await emulator.setClock(seconds);
    };

    await github.listRunners(repo);
    await advanceTo(54 * 60);
    await github.listRunners(repo);
    expect(await exchanges(emulator)).toHaveLength(1);

    await advanceTo(56 * 60);
    await github.listRunners(repo);
    expect(await exchanges(emulator)).toHaveLength(2);

    await advanceTo(3 * 60 * 60);
    await github.listRunners(repo);
    expect(await exchanges(emulator)).toHaveLength(3);
    expect((await emulator.requests()).every((request) => request.status < 300)).toBe(true);
  });

  it("replaces a cached token that GitHub no longer accepts, once", async () => {
    const emulator = await appEmulator("app-revoked");
    const log = captureLog();
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: 11 },
      logger: log.logger,
    });

    await github.listRunners(repo);
    await emulator.revokeInstallationTokens();
    await github.listRunners(repo);

    const statuses = (await emulator.requests()).map((request) => `${request.method} ${request.status}`);
    expect(statuses).toEqual(["POST 201", "GET 200", "GET 401", "POST 201", "GET 200"]);
    expect(log.text()).toContain("fetching a new one");
  });

  it("acts for the installation named by the webhook, sharing one token cache", async () => {
    const emulator = await appEmulator("app-installations");
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: 11 },
    });
    const other = { kind: "repo", owner: "other-org", repo: "service" } as const;

    expect(
      (await github.forInstallation(22).generateJitConfig({ ...jit("other-1"), scope: other })).kind,
    ).toBe("created");
    await github.forInstallation(22).listRunners(other);
    await github.forInstallation(undefined).listRunners(repo);
    expect((await exchanges(emulator)).map((request) => request.path)).toEqual([
      "/app/installations/22/access_tokens",
      "/app/installations/11/access_tokens",
    ]);

    // An installation reaches only its own account: GitHub answers 404 for the rest.
    const error = await rejection(github.forInstallation(22).listRunners(repo));
    expect(error).toMatchObject({ retryable: false, reason: "not_found", status: 404 });
  });

  it("needs an installation id for runner calls, and reads public releases without one", async () => {
    const emulator = await appEmulator("app-no-installation");
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: undefined },
    });

    const error = await rejection(github.generateJitConfig(jit("x")));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ reason: "missing_installation" });
    expect(String(error)).toContain("GITHUB_APP_INSTALLATION_ID");
    expect((await github.getLatestRunnerRelease()).version).toBe("2.334.0");
    expect((await emulator.requests()).map((request) => request.auth.kind)).toEqual(["none"]);
  });

  it("says what to check when GitHub refuses the JWT (a key that is not the App's)", async () => {
    const emulator = await appEmulator("app-wrong-key", otherKeys.publicKey);
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: 11 },
    });

    const error = await rejection(github.listRunners(repo));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({
      reason: "unauthenticated",
      status: 401,
      operation: "createInstallationToken",
    });
    expect(String(error)).toContain("GITHUB_APP_PRIVATE_KEY");
  });

  it.each([
    { label: "two minutes fast (iat in GitHub's future)", skewSeconds: 120, message: "'Issued at' claim" },
    {
      label: "twenty minutes slow (exp already past)",
      skewSeconds: -20 * 60,
      message: "'Expiration time' claim",
    },
  ])("is refused by GitHub's JWT rules with a clock $label", async ({ skewSeconds, message }) => {
    const emulator = await appEmulator("app-skew");
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: 11 },
      now: () => Date.now() + skewSeconds * 1000,
    });
    const error = await rejection(github.listRunners(repo));
    expect(error).toMatchObject({ reason: "unauthenticated", status: 401 });
    expect(String(error)).toContain(message);
  });

  it("tolerates a clock up to a minute fast (iat is backdated)", async () => {
    const emulator = await appEmulator("app-skew-ok");
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: 11 },
      now: () => Date.now() + 45_000,
    });
    expect(await github.listRunners(repo)).toEqual([]);
  });

  it.each<{ scope: RunnerScope; permissions: Permissions; needs: string }>([
    { scope: repo, permissions: { actions: "read" }, needs: '"Administration: read & write"' },
    {
      scope: org,
      permissions: { administration: "write" },
      needs: '"Self-hosted runners: read & write" on the organization',
    },
  ])(
    "names the missing permission when an installation lacks it ($needs)",
    async ({ scope, permissions, needs }) => {
      const emulator = emulatorFor("app-permissions");
      await emulator.seed({
        apps: [{ id: APP_ID, publicKey: keys.publicKey }],
        installations: [{ id: 11, appId: APP_ID, account: "octo-org", permissions }],
      });
      const github = client(emulator, {
        auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: 11 },
      });
      const error = await rejection(github.generateJitConfig({ ...jit("x"), scope }));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error).toMatchObject({ reason: "forbidden", status: 403 });
      expect(String(error)).toContain(needs);
      expect(String(error)).toContain("Resource not accessible by integration");
    },
  );

  it("refuses a private key it cannot read, without quoting it", async () => {
    const emulator = await appEmulator("app-bad-key");
    const broken = keys.pkcs1.replace(/[A-Za-z]{20}/, "!!!!");
    for (const privateKey of [broken, "not a key", keys.publicKey]) {
      const github = client(emulator, {
        auth: { kind: "app", appId: String(APP_ID), privateKey, installationId: 11 },
      });
      const error = await rejection(github.listRunners(repo));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error).toMatchObject({ reason: "invalid_private_key", operation: "createAppJwt" });
      if (privateKey.length > 80) expect(String(error)).not.toContain(privateKey.slice(40, 80));
    }
    expect(await emulator.requests()).toEqual([]);
  });

  it("never writes the private key, the JWT or the installation token to the log or an error", async () => {
    const emulator = await appEmulator("app-secrets");
    const log = captureLog();
    const github = client(emulator, {
      auth: { kind: "app", appId: String(APP_ID), privateKey: keys.pkcs1, installationId: 11 },
      logger: log.logger,
    });
    await github.generateJitConfig(jit("secret-1"));
    await emulator.revokeInstallationTokens();
    await emulator.fail({ route: "GET /repos/{owner}/{repo}/actions/runners", status: 401, count: 2 });
    const error = await rejection(github.listRunners(repo));

    const sent = await emulator.requests({ secrets: true });
    const credentials = sent.flatMap((request) => {
      const value = request.headers.authorization?.split(" ")[1];
      return value === undefined ? [] : [value];
    });
    expect(credentials.length).toBeGreaterThanOrEqual(3);
    const text = log.text([error]);
    for (const secret of [...credentials, keys.pkcs1.split("\n")[1] ?? "unreachable"]) {
      expect(text).not.toContain(secret);
    }
  });
});
