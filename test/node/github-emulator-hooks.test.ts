/**
 * The emulator's webhooks: deliveries really reach a loopback receiver, signed as GitHub signs them (checked with
 * @octokit/webhooks-methods, not with our own code), and their logs answer over REST the way GitHub's do, to
 * those GitHub lets see them and no one else.
 */
import { verify } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { signature256 } from "../emulators/github/hooks.ts";
import {
  appJwt,
  appKeys,
  call,
  type NodeAppKeys,
  namespace,
  PAT,
  type Receiver,
  startReceiver,
} from "./support/github.ts";

const SECRET = "It's a Secret to Everybody";
const APP_ID = 4242;
const REPO_LIST = (hookId: number) => `/repos/octo-org/hello/hooks/${hookId}/deliveries`;
const DeliveryItems = z.array(
  z.object({
    id: z.number(),
    guid: z.string(),
    redelivery: z.boolean(),
    status_code: z.int(),
    status: z.string(),
  }),
);

let keys: NodeAppKeys;
let receiver: Receiver;

beforeAll(async () => {
  keys = appKeys();
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

describe("sending deliveries", () => {
  it("POSTs to the hook's URL with GitHub's headers and a signature octokit verifies", async () => {
    const ns = namespace("hooks-send");
    const hookId = await ns.createHook({
      kind: "repository",
      repository: "octo-org/hello",
      url: receiver.url,
      secret: SECRET,
    });
    const before = receiver.received.length;
    const delivery = await ns.sendDelivery(hookId, {
      event: "ping",
      payload: { zen: "Keep it logically awesome." },
    });

    const got = receiver.received[before];
    expect(got).toBeDefined();
    expect(got?.headers).toMatchObject({
      "content-type": "application/json",
      "x-github-event": "ping",
      "x-github-delivery": delivery.guid,
      "x-github-hook-id": String(hookId),
      "x-github-hook-installation-target-type": "repository",
    });
    expect(got?.headers["user-agent"]).toMatch(/^GitHub-Hookshot\/[0-9a-f]+$/);
    expect(got?.headers["x-github-hook-installation-target-id"]).toMatch(/^\d+$/);
    expect(await verify(SECRET, got?.body ?? "", got?.headers["x-hub-signature-256"] ?? "")).toBe(true);
    expect(await verify("another secret", got?.body ?? "", got?.headers["x-hub-signature-256"] ?? "")).toBe(
      false,
    );
    expect(JSON.parse(got?.body ?? "{}")).toEqual({ zen: "Keep it logically awesome." });
    expect(delivery).toMatchObject({
      status: "OK",
      statusCode: 200,
      redelivery: false,
      event: "ping",
      action: null,
    });
  });

  it("signs GitHub's documented test vector as GitHub's docs show", async () => {
    expect(await signature256(SECRET, "Hello, World!")).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
  });

  it("sends form-encoded hooks the JSON in a payload field, signed over the bytes sent", async () => {
    const ns = namespace("hooks-form");
    const hookId = await ns.createHook({
      kind: "organization",
      organization: "octo-org",
      url: receiver.url,
      secret: SECRET,
      contentType: "form",
    });
    const before = receiver.received.length;
    await ns.sendDelivery(hookId, { event: "ping", payload: { hook_id: hookId } });
    const got = receiver.received[before];
    expect(got?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(got?.headers["x-github-hook-installation-target-type"]).toBe("organization");
    expect(JSON.parse(new URLSearchParams(got?.body).get("payload") ?? "{}")).toEqual({ hook_id: hookId });
    expect(await verify(SECRET, got?.body ?? "", got?.headers["x-hub-signature-256"] ?? "")).toBe(true);
  });

  it("records what the receiver answered: a 503, no answer in time, nobody listening", async () => {
    const ns = namespace("hooks-outcomes");
    const hookId = await ns.createHook({ kind: "repository", repository: "o/r", url: receiver.url });
    receiver.answer(503);
    const failed = await ns.sendDelivery(hookId, { event: "ping", payload: {} });
    expect(failed).toMatchObject({ status: "Invalid HTTP Response: 503", statusCode: 503 });
    expect(failed.responseBody).toBe("answered 503");

    receiver.answer(200, 500);
    await ns.settings({ deliveryTimeoutMs: 100 });
    const slow = await ns.sendDelivery(hookId, { event: "ping", payload: {} });
    expect(slow).toMatchObject({ status: "timed out", statusCode: 0 });
    receiver.answer(200);

    const closed = await ns.createHook({
      kind: "repository",
      repository: "o/r",
      url: "http://127.0.0.1:9/hook",
    });
    expect(await ns.sendDelivery(closed, { event: "ping", payload: {} })).toMatchObject({
      status: "failed to connect",
      statusCode: 0,
    });
  });

  it("without a URL records the outcome it is given (default 502), and no signature without a secret", async () => {
    const ns = namespace("hooks-no-url");
    const hookId = await ns.createHook({ kind: "repository", repository: "o/r" });
    expect(await ns.sendDelivery(hookId, { event: "ping", payload: {} })).toMatchObject({
      status: "Invalid HTTP Response: 502",
      statusCode: 502,
    });
    const ok = await ns.sendDelivery(hookId, { event: "ping", payload: {}, statusCode: 200 });
    expect(ok).toMatchObject({ status: "OK", statusCode: 200 });
    expect(ok.requestHeaders["X-Hub-Signature-256"]).toBeUndefined();
  });
});

describe("delivery logs over REST", () => {
  it("lists newest first, pages with a cursor in Link, filters by outcome, and shows one in full", async () => {
    const ns = namespace("hooks-list");
    const hookId = await ns.createHook({ kind: "repository", repository: "octo-org/hello" });
    const sent = [];
    for (const statusCode of [200, 502, 200, 404, 200]) {
      sent.push(
        await ns.sendDelivery(hookId, { event: "workflow_job", payload: { action: "queued" }, statusCode }),
      );
    }
    const auth = { authorization: `Bearer ${PAT}` };
    const first = await call(ns.url, "GET", `${REPO_LIST(hookId)}?per_page=2`, auth);
    expect(first.status).toBe(200);
    const page1 = DeliveryItems.parse(first.body);
    expect(page1.map((delivery) => delivery.id)).toEqual([sent[4]?.id, sent[3]?.id]);
    const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get("link") ?? "")?.[1] ?? "";
    expect(new URL(next).searchParams.get("cursor")).toMatch(/^v1_\d+$/);
    expect(next.startsWith(ns.url)).toBe(true);

    const second = await fetch(next, { headers: { "user-agent": "t", ...auth } });
    const page2 = DeliveryItems.parse(await second.json());
    expect(page2.map((delivery) => delivery.id)).toEqual([sent[2]?.id, sent[1]?.id]);

    const failures = DeliveryItems.parse(
      (await call(ns.url, "GET", `${REPO_LIST(hookId)}?status=failure`, auth)).body,
    );
    expect(failures.map((delivery) => delivery.status_code)).toEqual([404, 502]);
    const successes = DeliveryItems.parse(
      (await call(ns.url, "GET", `${REPO_LIST(hookId)}?status=success`, auth)).body,
    );
    expect(successes).toHaveLength(3);
    expect((await call(ns.url, "GET", `${REPO_LIST(hookId)}?status=failed`, auth)).status).toBe(422);
    expect((await call(ns.url, "GET", `${REPO_LIST(hookId)}?cursor=garbage`, auth)).status).toBe(400);

    const one = await call(ns.url, "GET", `${REPO_LIST(hookId)}/${sent[1]?.id}`, auth);
    expect(one.body).toMatchObject({
      id: sent[1]?.id,
      status_code: 502,
      request: { payload: { action: "queued" } },
      response: { payload: null },
    });
    expect((await call(ns.url, "GET", `${REPO_LIST(hookId)}/1`, auth)).status).toBe(404);
    expect((await call(ns.url, "GET", `${REPO_LIST(hookId + 1)}`, auth)).status).toBe(404);
  });

  it("redelivers with 202: a new entry with the same GUID, really sent again", async () => {
    const ns = namespace("hooks-redeliver");
    const hookId = await ns.createHook({
      kind: "repository",
      repository: "octo-org/hello",
      url: receiver.url,
    });
    receiver.answer(500);
    const original = await ns.sendDelivery(hookId, { event: "workflow_job", payload: { action: "queued" } });
    receiver.answer(200);
    const before = receiver.received.length;

    const answer = await call(ns.url, "POST", `${REPO_LIST(hookId)}/${original.id}/attempts`, {
      authorization: `token ${PAT}`,
    });
    expect(answer.status).toBe(202);
    await ns.settleDeliveries();

    const log = await ns.hookDeliveries(hookId);
    expect(log.map((delivery) => [delivery.guid, delivery.redelivery, delivery.statusCode])).toEqual([
      [original.guid, false, 500],
      [original.guid, true, 200],
    ]);
    expect(log[1]?.id).toBeGreaterThan(original.id);
    expect(receiver.received[before]?.headers["x-github-delivery"]).toBe(original.guid);
    expect(
      (await call(ns.url, "POST", `${REPO_LIST(hookId)}/12345/attempts`, { authorization: `token ${PAT}` }))
        .status,
    ).toBe(404);
  });
});

describe("who may read and redeliver", () => {
  it("repository hooks: Webhooks read to list, write to redeliver; no App JWT; nobody outside the account", async () => {
    const ns = namespace("hooks-repo-auth");
    const reader = "github_pat_11READER0000000000000000";
    const other = "github_pat_11OTHER00000000000000000";
    await ns.seed({
      tokens: [
        { token: PAT },
        { token: reader, permissions: { repository_hooks: "read" } },
        { token: other, permissions: { administration: "write", actions: "read" } },
      ],
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [{ id: 9, appId: APP_ID, account: "someone-else" }],
    });
    const hookId = await ns.createHook({ kind: "repository", repository: "octo-org/hello" });
    const { id } = await ns.sendDelivery(hookId, { event: "ping", payload: {} });
    const list = (authorization?: string) =>
      call(ns.url, "GET", REPO_LIST(hookId), authorization === undefined ? {} : { authorization }).then(
        (answer) => answer.status,
      );
    const attempt = (authorization: string) =>
      call(ns.url, "POST", `${REPO_LIST(hookId)}/${id}/attempts`, { authorization }).then(
        (answer) => answer.status,
      );

    expect(await list(`token ${PAT}`)).toBe(200);
    expect(await list(`Bearer ${reader}`)).toBe(200);
    expect(await attempt(`Bearer ${reader}`)).toBe(403);
    expect(await list(`Bearer ${other}`)).toBe(403);
    expect(await list()).toBe(401);
    expect(await list(`Bearer ${appJwt(keys.privateKey, APP_ID)}`)).toBe(401);

    const token = await call(ns.url, "POST", "/app/installations/9/access_tokens", {
      authorization: `Bearer ${appJwt(keys.privateKey, APP_ID)}`,
    });
    const installationToken = z.object({ token: z.string() }).parse(token.body).token;
    expect(await list(`token ${installationToken}`)).toBe(404);
  });

  it("organization hooks need organization_hooks", async () => {
    const ns = namespace("hooks-org-auth");
    const runnersOnly = "github_pat_11RUNNERS00000000000000";
    await ns.seed({
      tokens: [
        { token: PAT, permissions: { organization_hooks: "write" } },
        {
          token: runnersOnly,
          permissions: { organization_self_hosted_runners: "write", repository_hooks: "write" },
        },
      ],
    });
    const hookId = await ns.createHook({ kind: "organization", organization: "octo-org" });
    const path = `/orgs/octo-org/hooks/${hookId}/deliveries`;
    expect((await call(ns.url, "GET", path, { authorization: `token ${PAT}` })).status).toBe(200);
    const refused = await call(ns.url, "GET", path, { authorization: `token ${runnersOnly}` });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("Resource not accessible by personal access token");
    expect(
      (
        await call(ns.url, "GET", `/orgs/other-org/hooks/${hookId}/deliveries`, {
          authorization: `token ${PAT}`,
        })
      ).status,
    ).toBe(404);
  });

  it("the App's hook answers only the App's JWT, with GitHub's message to anything else", async () => {
    const ns = namespace("hooks-app-auth");
    await ns.seed({
      apps: [{ id: APP_ID, publicKey: keys.publicKey }],
      installations: [{ id: 9, appId: APP_ID, account: "octo-org" }],
    });
    const jwt = `Bearer ${appJwt(keys.privateKey, APP_ID)}`;
    expect((await call(ns.url, "GET", "/app/hook/deliveries", { authorization: jwt })).status).toBe(404);

    const hookId = await ns.createHook({ kind: "app", appId: APP_ID, url: receiver.url, secret: SECRET });
    const before = receiver.received.length;
    await ns.sendDelivery(hookId, { event: "ping", payload: { installation: { id: 9 } } });
    expect(receiver.received[before]?.headers["x-github-hook-installation-target-type"]).toBe("integration");
    expect(receiver.received[before]?.headers["x-github-hook-installation-target-id"]).toBe(String(APP_ID));

    const listed = await call(ns.url, "GET", "/app/hook/deliveries", { authorization: jwt });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject([{ installation_id: 9, event: "ping" }]);

    const token = z
      .object({ token: z.string() })
      .parse(
        (await call(ns.url, "POST", "/app/installations/9/access_tokens", { authorization: jwt })).body,
      ).token;
    for (const authorization of [`token ${token}`, `Bearer ${PAT}`, undefined]) {
      const answer = await call(
        ns.url,
        "GET",
        "/app/hook/deliveries",
        authorization === undefined ? {} : { authorization },
      );
      expect(answer.status).toBe(401);
      expect(answer.text).toContain("A JSON web token could not be decoded");
    }
  });
});
