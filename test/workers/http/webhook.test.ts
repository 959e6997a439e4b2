import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sign } from "@octokit/webhooks-methods";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../../src/http/app.ts";
import { JobMessageSchema } from "../../../src/jobs/message.ts";
import { queuedFor } from "../../support/recorded-queue.ts";
import { type Vars, withVars } from "../../support/vars.ts";
import { delivery, deliveryIdOf, example, TEST_SECRET, workflowJob } from "../../support/webhook.ts";

const logs: string[] = [];
const app = createApp({ logSink: (_level, line) => logs.push(line) });

/** The real app and the real local Queue; only the producer binding points at the recorded test queue. */
async function post(request: Request, vars: Vars = {}) {
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...withVars(vars), JOBS_QUEUE: env.RECORDED_QUEUE }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return response.json();
}

beforeEach(() => {
  logs.length = 0;
});

describe("accepted deliveries", () => {
  it("queues one versioned message for a queued job with our labels", async () => {
    const payload = workflowJob("queued", { repository: "acme/api" });
    const request = await delivery(JSON.stringify(payload));
    const response = await post(request);
    const job = Reflect.get(payload, "workflow_job") ?? {};
    const jobId = Reflect.get(job, "id");

    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ queued: jobId, kind: "job.queued" });
    const messages = await queuedFor(deliveryIdOf(request));
    expect(messages).toHaveLength(1);
    const message = JobMessageSchema.parse(messages[0]);
    expect(message).toMatchObject({
      v: 1,
      kind: "job.queued",
      deliveryId: deliveryIdOf(request),
      job: {
        id: jobId,
        runId: Reflect.get(job, "run_id"),
        runAttempt: Reflect.get(job, "run_attempt"),
        labels: ["self-hosted", "modal"],
        repository: "acme/api",
        owner: "acme",
        ownerType: "User",
        installationId: Reflect.get(Reflect.get(payload, "installation") ?? {}, "id"),
        private: true,
      },
    });
    expect(message.receivedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it("matches labels case-insensitively", async () => {
    const request = await delivery(
      JSON.stringify(workflowJob("queued", { labels: ["Self-Hosted", "MODAL"] })),
    );
    const response = await post(request);
    expect(response.status).toBe(202);
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(1);
  });

  it("accepts a form-encoded delivery and signs what was sent", async () => {
    const body = new URLSearchParams({ payload: JSON.stringify(workflowJob("queued")) }).toString();
    const request = await delivery(body, { contentType: "application/x-www-form-urlencoded" });
    const response = await post(request);
    expect(response.status).toBe(202);
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(1);
  });

  it("accepts a signature made with the previous secret during a rotation", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued")), { secret: "the-old-secret-value" });
    expect((await post(request)).status).toBe(401);
    const again = await delivery(JSON.stringify(workflowJob("queued")), { secret: "the-old-secret-value" });
    const response = await post(again, { WEBHOOK_SECRET_PREVIOUS: "the-old-secret-value" });
    expect(response.status).toBe(202);
    expect(await queuedFor(deliveryIdOf(again))).toHaveLength(1);
  });

  it.each([
    ["waiting", "job.waiting"],
    ["in_progress", "job.in_progress"],
    ["completed", "job.completed"],
  ] as const)("queues %s deliveries for our labels as %s, with the runner fields", async (action, kind) => {
    const payload = workflowJob(action);
    const request = await delivery(JSON.stringify(payload));
    const response = await post(request);
    expect(response.status).toBe(202);
    const [message, ...rest] = await queuedFor(deliveryIdOf(request));
    expect(rest).toHaveLength(0);
    const parsed = JobMessageSchema.parse(message);
    const job = Reflect.get(payload, "workflow_job");
    expect(parsed.kind).toBe(kind);
    expect(parsed.job.runnerName).toBe(Reflect.get(job ?? {}, "runner_name") ?? null);
    expect(parsed.job.conclusion).toBe(Reflect.get(job ?? {}, "conclusion") ?? null);
  });
});

describe("repository policy", () => {
  it("ignores a repository outside ALLOWED_REPOS with a 200", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued", { repository: "acme/api" })));
    const response = await post(request, { ALLOWED_REPOS: "acme/web, other/api" });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: "repository not in ALLOWED_REPOS" });
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(0);
  });

  it("accepts owner/* for every repository of the owner, case-insensitively", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued", { repository: "Acme/API" })));
    const response = await post(request, { ALLOWED_REPOS: "acme/*" });
    expect(response.status).toBe(202);
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(1);
  });

  it("refuses a public repository unless ALLOW_PUBLIC_REPOS is true", async () => {
    const refused = await delivery(JSON.stringify(workflowJob("queued", { private: false })));
    const response = await post(refused);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      ignored: "public repository (set ALLOW_PUBLIC_REPOS=true to allow)",
    });
    expect(await queuedFor(deliveryIdOf(refused))).toHaveLength(0);

    const allowed = await delivery(JSON.stringify(workflowJob("queued", { private: false })));
    expect((await post(allowed, { ALLOW_PUBLIC_REPOS: "true" })).status).toBe(202);
    expect(await queuedFor(deliveryIdOf(allowed))).toHaveLength(1);
  });

  it("ignores jobs whose labels lack one of REQUIRED_LABELS", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued", { labels: ["self-hosted", "k8s"] })));
    const response = await post(request);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: "labels lack modal" });
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(0);
  });

  it("honours a custom REQUIRED_LABELS", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued", { labels: ["self-hosted", "gpu"] })));
    expect((await post(request, { REQUIRED_LABELS: "gpu" })).status).toBe(202);
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(1);
  });

  it("ignores an action it does not handle", async () => {
    const payload = workflowJob("queued");
    payload.action = "requested";
    const request = await delivery(JSON.stringify(payload));
    const response = await post(request);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: "action requested is not handled" });
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(0);
  });
});

describe("other events", () => {
  it("answers ping with a 200", async () => {
    const request = await delivery(JSON.stringify(example("ping")), { event: "ping" });
    const response = await post(request);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ok: true, pong: true });
  });

  it("ignores other events with a 200 and a reason", async () => {
    const request = await delivery(JSON.stringify(example("ping")), { event: "push" });
    const response = await post(request);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: "event push is not handled" });
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(0);
  });
});

describe("refused deliveries change nothing", () => {
  const body = () => JSON.stringify(workflowJob("queued"));

  it.each([
    ["no signature header", { signature: null }],
    ["a signature made with another secret", { secret: "another-secret-entirely" }],
    ["an uppercase hex signature", { uppercase: true }],
    ["a truncated signature", { truncate: true }],
    ["a sha1 signature", { signature: `sha1=${"a".repeat(40)}` }],
    ["garbage", { signature: "sha256=not-hex-at-all" }],
  ] as const)("401 for %s", async (_name, variant) => {
    const text = body();
    let signature: string | null | undefined;
    if ("signature" in variant) signature = variant.signature;
    else if ("uppercase" in variant)
      signature = (await sign(TEST_SECRET, text))
        .replace(/[a-f]/g, (c) => c.toUpperCase())
        .replace("SHA", "sha");
    else if ("truncate" in variant) signature = (await sign(TEST_SECRET, text)).slice(0, -2);
    const request = await delivery(text, "secret" in variant ? { secret: variant.secret } : { signature });
    const response = await post(request);
    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({ error: "invalid or missing X-Hub-Signature-256" });
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(0);
  });

  it("401 for a tampered body", async () => {
    const original = body();
    const signature = await sign(TEST_SECRET, original);
    const tampered = original.replace('"private":true', '"private":false');
    expect(tampered).not.toBe(original);
    const request = await delivery(tampered, { signature });
    expect((await post(request)).status).toBe(401);
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(0);
  });

  it("413 for a body one byte over 1 MiB, and accepts one of exactly 1 MiB", async () => {
    const exact = JSON.stringify(workflowJob("queued", { padTo: 1024 * 1024 }));
    expect(exact.length).toBe(1024 * 1024);
    expect((await post(await delivery(exact))).status).toBe(202);

    const over = JSON.stringify(workflowJob("queued", { padTo: 1024 * 1024 + 1 }));
    const tooLarge = await delivery(over);
    const response = await post(tooLarge);
    expect(response.status).toBe(413);
    expect(await queuedFor(deliveryIdOf(tooLarge))).toHaveLength(0);
  });

  it("413 when the body streams past the limit without a content-length", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 2 * 1024 * 1024) controller.close();
        else {
          sent += chunk.byteLength;
          controller.enqueue(chunk);
        }
      },
    });
    const request = new Request("https://hooks.example.com/webhook", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "workflow_job",
        "x-github-delivery": "d",
      },
      body: stream,
    });
    expect((await post(request)).status).toBe(413);
    expect(sent).toBeLessThan(2 * 1024 * 1024);
  });

  it.each([
    ["X-GitHub-Event", { event: null }],
    ["X-GitHub-Delivery", { deliveryId: null }],
  ] as const)("400 naming a missing %s header", async (header, options) => {
    const request = await delivery(body(), options);
    const response = await post(request);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: `missing ${header} header` });
  });

  it("415 for a content type GitHub does not send", async () => {
    const request = await delivery(body(), { contentType: "text/plain" });
    expect((await post(request)).status).toBe(415);
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(0);
  });

  it("400 for a form body without a payload field", async () => {
    const request = await delivery("other=1", { contentType: "application/x-www-form-urlencoded" });
    expect((await post(request)).status).toBe(400);
  });

  it("400 for signed bytes that are not JSON", async () => {
    const request = await delivery("{not json");
    const response = await post(request);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: "payload is not valid JSON" });
  });

  it("400 for a signed workflow_job payload without the fields we need", async () => {
    const payload = workflowJob("queued");
    Reflect.deleteProperty(payload, "repository");
    const request = await delivery(JSON.stringify(payload));
    const response = await post(request);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: "payload is not a valid workflow_job event" });
    expect(await queuedFor(deliveryIdOf(request))).toHaveLength(0);
  });

  it("503 when the queue refuses the message, so GitHub records a failed delivery to redeliver", async () => {
    const request = await delivery(body());
    const failing: Queue = {
      send: () => Promise.reject(new Error("queue unavailable")),
      sendBatch: () => Promise.reject(new Error("queue unavailable")),
      metrics: () => Promise.reject(new Error("queue unavailable")),
    };
    const ctx = createExecutionContext();
    const response = await app.fetch(request, { ...env, JOBS_QUEUE: failing }, ctx);
    expect(response.status).toBe(503);
  });
});

describe("bodies that cannot be read", () => {
  /** A body whose stream breaks after its first bytes, as when a client goes away mid-upload. */
  function cutBody(declaredLength?: number): Request {
    const bytes = new TextEncoder().encode('{"action":"queued","workflow_job":');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
      },
      pull(controller) {
        controller.error(new Error("connection reset"));
      },
    });
    const headers = new Headers({
      "content-type": "application/json",
      "x-github-event": "workflow_job",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
    });
    if (declaredLength !== undefined) headers.set("content-length", String(declaredLength));
    return new Request("https://hooks.example.com/webhook", { method: "POST", headers, body: stream });
  }

  it.each([
    { framing: "chunked", length: undefined },
    { framing: "with a declared length", length: 4096 },
  ])(
    "400 with a short reason for a body cut mid-read ($framing), logged below error level",
    async ({ length }) => {
      const response = await post(cutBody(length));
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: "the request body could not be read" });
      const lines = logs.map((line) => JSON.parse(line));
      expect(lines.some((line) => line.level === "error")).toBe(false);
      expect(lines.find((line) => line.msg === "webhook delivery")).toMatchObject({
        level: "info",
        decision: "rejected",
        status: 400,
      });
    },
  );
});

describe("logs", () => {
  it("writes one JSON line per delivery with its decision, and no secret or body", async () => {
    const payload = workflowJob("queued", { repository: "acme/secret-project" });
    const request = await delivery(JSON.stringify(payload));
    await post(request);
    const lines = logs.map((line) => JSON.parse(line));
    const line = lines.find((entry) => entry.msg === "webhook delivery");
    expect(line).toMatchObject({
      level: "info",
      deliveryId: deliveryIdOf(request),
      event: "workflow_job",
      action: "queued",
      jobId: Reflect.get(Reflect.get(payload, "workflow_job") ?? {}, "id"),
      decision: "queued",
      status: 202,
    });
    const all = logs.join("\n");
    expect(all).not.toContain(TEST_SECRET);
    expect(all).not.toContain(env.GITHUB_TOKEN);
    expect(all).not.toContain(request.headers.get("x-hub-signature-256"));
    expect(all).not.toContain("Hello-World"); // nothing of the payload beyond the fields we chose
  });

  it("logs the reason of a rejection", async () => {
    const request = await delivery(JSON.stringify(workflowJob("queued")), { signature: null });
    await post(request);
    const line = logs.map((entry) => JSON.parse(entry)).find((entry) => entry.msg === "webhook delivery");
    expect(line).toMatchObject({ decision: "rejected", status: 401, auth: "missing" });
  });
});
