import { beforeAll, describe, expect, it } from "vitest";
import { RetryableError } from "../../../src/errors.ts";
import type { GitHubAuth, RateLimitSignal } from "../../../src/github/client.ts";
import { type AppKeys, captureLog, client, emulatorFor, generateAppKeys, PAT, rejection } from "./helpers.ts";

const APP_ID = 1618;
const repo = { kind: "repo", owner: "octo-org", repo: "hello-world" } as const;
const jit = (name: string) => ({ scope: repo, name, labels: ["self-hosted"], runnerGroupId: 1 });
let keys: AppKeys;

beforeAll(async () => {
  keys = await generateAppKeys();
});

async function patKey(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return `pat:${Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 16)}`;
}

const appAuth = (installationId: number | undefined): GitHubAuth => ({
  kind: "app",
  appId: String(APP_ID),
  privateKey: keys.pkcs1,
  installationId,
});

describe("onRateLimit", () => {
  it("reports every answer's budget under the PAT's key, which credentialKey() names too", async () => {
    const emulator = emulatorFor("signals-pat");
    await emulator.seed({ rateLimit: { limit: 50, remaining: 50, resetInSeconds: 900 } });
    const signals: RateLimitSignal[] = [];
    const github = client(emulator, { onRateLimit: (signal) => signals.push(signal) });

    await github.listRunners(repo);
    await github.generateJitConfig(jit("signal-1"));
    const key = `${emulator.url}|${await patKey(PAT)}`;
    expect(await github.credentialKey()).toBe(key);
    expect(key).not.toContain(PAT);
    expect(signals).toEqual([
      { credential: key, operation: "listRunners", remaining: 49, limit: 50, resetAt: expect.any(Number) },
      {
        credential: key,
        operation: "generateJitConfig",
        remaining: 48,
        limit: 50,
        resetAt: expect.any(Number),
      },
    ]);
    const resetAt = signals[0]?.resetAt ?? 0;
    expect(resetAt % 1000).toBe(0);
    expect(resetAt).toBeGreaterThan(Date.now() + 890_000);
    expect(resetAt).toBeLessThan(Date.now() + 902_000);
  });

  it("gives each installation its own key, and the App's JWT calls the App's", async () => {
    const emulator = emulatorFor("signals-installations");
    await emulator.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [
        { id: 11, appId: APP_ID, account: "octo-org" },
        { id: 22, appId: APP_ID, account: "other-org" },
      ],
    });
    const signals: RateLimitSignal[] = [];
    const github = client(emulator, { auth: appAuth(11), onRateLimit: (signal) => signals.push(signal) });

    await github.listRunners(repo);
    await github.forInstallation(22).listRunners({ kind: "org", org: "other-org" });
    await github.getOrgInstallation("octo-org");
    const [first, second] = [await github.credentialKey(), await github.forInstallation(22).credentialKey()];
    expect(first).toBe(`${emulator.url}|installation:11`);
    expect(second).toBe(`${emulator.url}|installation:22`);
    const app = `${emulator.url}|app:${APP_ID}`;
    expect(signals.map((signal) => [signal.operation, signal.credential, signal.remaining])).toEqual([
      ["createInstallationToken", app, 4999],
      ["listRunners", first, 4999],
      ["createInstallationToken", app, 4998],
      ["listRunners", second, 4999],
      ["getOrgInstallation", app, 4997],
    ]);
    const withoutInstallation = client(emulator, { auth: appAuth(undefined) });
    expect(await withoutInstallation.credentialKey()).toBe(app);
  });

  it("reports a secondary-limit refusal with when to call again, for the installation that was refused", async () => {
    const emulator = emulatorFor("signals-secondary");
    await emulator.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [
        { id: 11, appId: APP_ID, account: "octo-org" },
        { id: 22, appId: APP_ID, account: "other-org" },
      ],
      secondaryRateLimit: { limit: 1, windowSeconds: 60, retryAfterSeconds: 45 },
    });
    const signals: RateLimitSignal[] = [];
    const now = Date.now();
    const github = client(emulator, {
      auth: appAuth(11),
      now: () => now,
      onRateLimit: (signal) => signals.push(signal),
    });

    await github.generateJitConfig(jit("burst-1"));
    const error = await rejection(github.generateJitConfig(jit("burst-2")));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "rate_limited", status: 403, retryAfterSeconds: 45 });
    const refused = signals.at(-1);
    expect(refused).toMatchObject({
      credential: `${emulator.url}|installation:11`,
      operation: "generateJitConfig",
      limitedUntil: now + 45_000,
      secondary: true,
      remaining: expect.any(Number),
    });
    // Another installation has its own budget and is not limited.
    const other = await github
      .forInstallation(22)
      .generateJitConfig({ ...jit("burst-3"), scope: { kind: "org", org: "other-org" } });
    expect(other.kind).toBe("created");
    expect(signals.at(-1)).toMatchObject({ credential: `${emulator.url}|installation:22` });
    expect(signals.at(-1)?.limitedUntil).toBeUndefined();
  });

  it("reports an exhausted hourly budget as limited until its reset, not as secondary", async () => {
    const emulator = emulatorFor("signals-primary");
    await emulator.seed({ rateLimit: { limit: 10, remaining: 1, resetInSeconds: 600 } });
    const signals: RateLimitSignal[] = [];
    const now = Date.now();
    const github = client(emulator, { now: () => now, onRateLimit: (signal) => signals.push(signal) });

    await github.listRunners(repo);
    await rejection(github.listRunners(repo));
    const refused = signals.at(-1);
    expect(refused).toMatchObject({ remaining: 0, limit: 10, secondary: false });
    // errors.ts waits whole seconds until x-ratelimit-reset: the signal says the same.
    const resetAt = refused?.resetAt ?? 0;
    expect(resetAt).toBeGreaterThan(now + 590_000);
    expect(refused?.limitedUntil).toBeGreaterThanOrEqual(resetAt);
    expect(refused?.limitedUntil).toBeLessThan(resetAt + 1000);
  });

  it("passes on a 429's retry-after, and survives a listener that throws", async () => {
    const emulator = emulatorFor("signals-429");
    await emulator.fail({ route: "GET /repos/{owner}/{repo}/actions/runners", status: 429, retryAfter: 7 });
    const log = captureLog();
    const signals: RateLimitSignal[] = [];
    const now = Date.now();
    const github = client(emulator, {
      now: () => now,
      logger: log.logger,
      onRateLimit: (signal) => {
        signals.push(signal);
        throw new Error("listener bug");
      },
    });
    await rejection(github.listRunners(repo));
    expect(signals[0]).toMatchObject({ limitedUntil: now + 7000, secondary: true });
    expect(await github.listRunners(repo)).toEqual([]);
    expect(log.text()).toContain("github rate-limit listener threw");
  });
});
