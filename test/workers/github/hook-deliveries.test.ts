import { beforeAll, describe, expect, it } from "vitest";
import { PermanentError } from "../../../src/errors.ts";
import type { GitHubAuth, HookRef } from "../../../src/github/client.ts";
import type { GitHubEmulatorHandle } from "../../emulators/github/control-client.ts";
import { type AppKeys, client, emulatorFor, generateAppKeys, PAT, rejection } from "./helpers.ts";

const APP_ID = 2718;
let keys: AppKeys;

beforeAll(async () => {
  keys = await generateAppKeys();
});

async function withDeliveries(emulator: GitHubEmulatorHandle, hookId: number, count: number) {
  const sent = [];
  for (let i = 0; i < count; i++) {
    sent.push(
      await emulator.sendDelivery(hookId, {
        event: "workflow_job",
        payload: { action: "queued", installation: { id: 11 }, repository: { id: 77 } },
        statusCode: i % 2 === 0 ? 200 : 502,
      }),
    );
  }
  return sent;
}

const appAuth = (installationId: number | undefined): GitHubAuth => ({
  kind: "app",
  appId: String(APP_ID),
  privateKey: keys.pkcs1,
  installationId,
});

describe("listHookDeliveries", () => {
  it("pages a repository hook's log newest first, passing GitHub's cursor on", async () => {
    const emulator = emulatorFor("hook-list");
    const hookId = await emulator.createHook({ kind: "repository", repository: "octo-org/hello-world" });
    const sent = await withDeliveries(emulator, hookId, 5);
    const hook: HookRef = { kind: "repository", owner: "octo-org", repo: "hello-world", hookId };
    const github = client(emulator);

    const first = await github.listHookDeliveries(hook, { perPage: 2 });
    expect(first.deliveries.map((delivery) => delivery.id)).toEqual([sent[4]?.id, sent[3]?.id]);
    expect(first.deliveries[1]).toEqual({
      id: sent[3]?.id,
      guid: sent[3]?.guid,
      deliveredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      redelivery: false,
      status: "Invalid HTTP Response: 502",
      statusCode: 502,
      event: "workflow_job",
      action: "queued",
      installationId: 11,
      repositoryId: 77,
    });
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await github.listHookDeliveries(hook, { perPage: 2, cursor: first.nextCursor });
    expect(second.deliveries.map((delivery) => delivery.id)).toEqual([sent[2]?.id, sent[1]?.id]);
    const last = await github.listHookDeliveries(hook, { perPage: 2, cursor: second.nextCursor });
    expect(last).toEqual({
      deliveries: [expect.objectContaining({ id: sent[0]?.id })],
      nextCursor: undefined,
    });
    expect((await github.listHookDeliveries(hook)).deliveries).toHaveLength(5);
    expect((await emulator.requests()).at(-1)?.path).toMatch(/\/deliveries\?per_page=100$/);
  });

  it("reads the App's hook with the App's JWT and an organization's hook with the installation token", async () => {
    const emulator = emulatorFor("hook-auth");
    await emulator.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [{ id: 11, appId: APP_ID, account: "octo-org" }],
    });
    const appHook = await emulator.createHook({ kind: "app", appId: APP_ID });
    const orgHook = await emulator.createHook({ kind: "organization", organization: "octo-org" });
    await withDeliveries(emulator, appHook, 1);
    await withDeliveries(emulator, orgHook, 1);
    const github = client(emulator, { auth: appAuth(11) });

    expect((await github.listHookDeliveries({ kind: "app" })).deliveries).toHaveLength(1);
    expect(
      (await github.listHookDeliveries({ kind: "organization", org: "octo-org", hookId: orgHook }))
        .deliveries,
    ).toHaveLength(1);
    const calls = (await emulator.requests()).map((request) => [request.route, request.auth]);
    expect(calls).toEqual([
      ["GET /app/hook/deliveries", { kind: "app", appId: APP_ID }],
      ["POST /app/installations/{installation_id}/access_tokens", { kind: "app", appId: APP_ID }],
      ["GET /orgs/{org}/hooks/{hook_id}/deliveries", { kind: "installation", installationId: 11 }],
    ]);
  });

  it("names the Webhooks permission on a 403 and maps an unknown hook to not_found", async () => {
    const emulator = emulatorFor("hook-errors");
    await emulator.seed({ tokens: [{ token: PAT, permissions: { administration: "write" } }] });
    const hookId = await emulator.createHook({ kind: "repository", repository: "octo-org/hello-world" });
    const hook: HookRef = { kind: "repository", owner: "octo-org", repo: "hello-world", hookId };
    const forbidden = await rejection(client(emulator).listHookDeliveries(hook));
    expect(forbidden).toBeInstanceOf(PermanentError);
    expect(forbidden).toMatchObject({ reason: "forbidden", status: 403, operation: "listHookDeliveries" });
    expect(String(forbidden)).toContain('"Webhooks: read" on octo-org/hello-world');

    await emulator.seed({ tokens: [{ token: PAT }] });
    const missing = await rejection(client(emulator).listHookDeliveries({ ...hook, hookId: hookId + 1 }));
    expect(missing).toMatchObject({ reason: "not_found", status: 404 });
  });

  it("refuses the App's hook to a PAT client without calling, and a bad Link cursor as a bad response", async () => {
    const emulator = emulatorFor("hook-pat-app");
    const error = await rejection(client(emulator).listHookDeliveries({ kind: "app" }));
    expect(error).toMatchObject({ retryable: false, reason: "app_auth_required" });
    expect(await emulator.requests()).toEqual([]);

    await emulator.fail({
      route: "GET /orgs/{org}/hooks/{hook_id}/deliveries",
      status: 200,
      body: [],
      headers: { link: '<https://evil.example/orgs/o/hooks/1/deliveries?cursor=v1_1>; rel="next"' },
    });
    const elsewhere = await rejection(
      client(emulator).listHookDeliveries({ kind: "organization", org: "o", hookId: 1 }),
    );
    expect(elsewhere).toMatchObject({ retryable: true, reason: "bad_response" });
  });
});

describe("redeliver", () => {
  it("asks for a redelivery (202) that GitHub then sends with the same GUID", async () => {
    const emulator = emulatorFor("hook-redeliver");
    await emulator.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [{ id: 11, appId: APP_ID, account: "octo-org" }],
    });
    const appHook = await emulator.createHook({ kind: "app", appId: APP_ID });
    const [failed] = await withDeliveries(emulator, appHook, 2).then((sent) => sent.slice(1));
    const github = client(emulator, { auth: appAuth(11) });

    await github.redeliver({ kind: "app" }, failed?.id ?? 0);
    await emulator.settleDeliveries();
    const log = await emulator.hookDeliveries(appHook);
    expect(log.at(-1)).toMatchObject({ guid: failed?.guid, redelivery: true });
    const [attempt] = await emulator.requests();
    expect(attempt).toMatchObject({
      route: "POST /app/hook/deliveries/{delivery_id}/attempts",
      status: 202,
      auth: { kind: "app", appId: APP_ID },
    });

    const missing = await rejection(github.redeliver({ kind: "app" }, 1));
    expect(missing).toMatchObject({ reason: "not_found", operation: "redeliverHookDelivery" });
  });

  it("needs Webhooks write on a repository hook", async () => {
    const emulator = emulatorFor("hook-redeliver-write");
    await emulator.seed({ tokens: [{ token: PAT, permissions: { repository_hooks: "read" } }] });
    const hookId = await emulator.createHook({ kind: "repository", repository: "octo-org/hello-world" });
    const [sent] = await withDeliveries(emulator, hookId, 1);
    const hook: HookRef = { kind: "repository", owner: "octo-org", repo: "hello-world", hookId };
    const github = client(emulator);
    expect((await github.listHookDeliveries(hook)).deliveries).toHaveLength(1);
    const error = await rejection(github.redeliver(hook, sent?.id ?? 0));
    expect(error).toMatchObject({ reason: "forbidden", status: 403 });
    expect(String(error)).toContain('"Webhooks: read & write"');
  });
});
