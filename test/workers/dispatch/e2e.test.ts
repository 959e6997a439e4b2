/**
 * The whole product in workerd: signed delivery → webhook → the real local Queue → consumer → ledger → GitHub
 * and Modal emulators. The tests share the emulators' `worker` namespaces and run one after another.
 */
import { describe, expect, it } from "vitest";
import { uniqueJobId } from "../../support/webhook.ts";
import {
  github,
  deliverLifecycle,
  deliverQueued,
  modal,
  settle,
  uniqueRepository,
  waitForState,
} from "../../support/dispatch.ts";

const JIT_ROUTE = "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig";

async function jitCalls(repository: string) {
  return (await github().requests()).filter(
    (request) => request.route === JIT_ROUTE && request.path.includes(`/repos/${repository}/`),
  );
}

async function createCalls(runnerName: string) {
  return (await modal().calls()).filter(
    (call) =>
      (call.method === "SandboxCreateV2" || call.method === "SandboxCreate") &&
      JSON.stringify(call.request).includes(runnerName),
  );
}

describe("one queued job", () => {
  it("makes exactly one runner registration and one sandbox, with the JIT config only in the secret", async () => {
    const repository = uniqueRepository();
    const { jobId } = await deliverQueued({ repository, labels: ["self-hosted", "modal", "Linux"] });
    const record = await waitForState(repository, jobId, ["started"]);
    const runnerName = `modal-${jobId}-1`;
    expect(record).toMatchObject({ runnerName, state: "started", sandboxId: expect.stringMatching(/^sb-/) });
    expect(record.runnerId).toEqual(expect.any(Number));
    expect(record.jitIssuedAt).toEqual(expect.any(Number));

    const jits = await jitCalls(repository);
    expect(jits).toHaveLength(1);
    expect(jits[0]?.body).toEqual({
      name: runnerName,
      runner_group_id: 1,
      labels: ["self-hosted", "modal", "Linux"],
      work_folder: "_work",
    });

    const creates = await createCalls(runnerName);
    expect(creates).toHaveLength(1);
    const [create] = creates;
    expect(create?.method).toBe("SandboxCreateV2");
    expect(create?.request).toMatchObject({
      definition: {
        entrypoint_args: ["/home/runner/run.sh"],
        resources: { memory_mb: 4096, milli_cpu: 2000 },
        timeout_secs: 3600,
        name: runnerName,
      },
      tags: expect.arrayContaining([
        { tag_name: "job-id", tag_value: String(jobId) },
        { tag_name: "repository", tag_value: repository },
        { tag_name: "runner-name", tag_value: runnerName },
      ]),
    });
    const sandbox = (await modal().sandboxes()).find((candidate) => candidate.name === runnerName);
    const jit = sandbox?.env.ACTIONS_RUNNER_INPUT_JITCONFIG ?? "";
    expect(jit.length).toBeGreaterThan(20);
    expect(sandbox?.env.RUNNER_ALLOW_RUNASROOT).toBe("1");
    // The JIT config is in the secret part only: not in the definition, the tags or the name.
    const { secret_sources: _secret, ...rest } = create?.request ?? {};
    expect(JSON.stringify(rest)).not.toContain(jit);
    // The image is the official runner image at the release GitHub reports as latest.
    const images = (await modal().calls("ImageGetOrCreate")).map((call) => JSON.stringify(call.request));
    expect(images.some((image) => /FROM ghcr\.io\/actions\/actions-runner:\d+\.\d+\.\d+/.test(image))).toBe(
      true,
    );
  });
});

describe("duplicates", () => {
  it("ten concurrent copies of one delivery still make one runner and one sandbox", async () => {
    const repository = uniqueRepository();
    const deliveryId = crypto.randomUUID();
    const first = await deliverQueued({ repository, deliveryId });
    await Promise.all(
      Array.from({ length: 9 }, () => deliverQueued({ repository, deliveryId, jobId: first.jobId })),
    );
    await waitForState(repository, first.jobId, ["started"]);
    await settle(3000);
    expect(await jitCalls(repository)).toHaveLength(1);
    expect(await createCalls(`modal-${first.jobId}-1`)).toHaveLength(1);
  });

  it("queued → waiting → queued (two deliveries, one job) makes one runner and one sandbox", async () => {
    const repository = uniqueRepository();
    const { jobId } = await deliverQueued({ repository });
    await deliverLifecycle("waiting", { repository, jobId });
    await deliverQueued({ repository, jobId });
    await waitForState(repository, jobId, ["started"]);
    await settle();
    expect(await jitCalls(repository)).toHaveLength(1);
    expect(await createCalls(`modal-${jobId}-1`)).toHaveLength(1);
  });
});

describe("upstream failures", () => {
  it("GitHub 502, then success: retried, one runner in the end", async () => {
    const repository = uniqueRepository();
    await github().fail({ route: JIT_ROUTE, pathIncludes: `/repos/${repository}/`, status: 502, count: 1 });
    const { jobId } = await deliverQueued({ repository });
    const record = await waitForState(repository, jobId, ["started"]);
    expect(record.attempts).toBe(1);
    const jits = await jitCalls(repository);
    expect(jits).toHaveLength(2);
    expect(await createCalls(`modal-${jobId}-1`)).toHaveLength(1);
  });

  it("GitHub 429 with retry-after: 7 — the retry waits at least 7 seconds", async () => {
    const repository = uniqueRepository();
    await github().fail({
      route: JIT_ROUTE,
      pathIncludes: `/repos/${repository}/`,
      status: 429,
      retryAfter: 7,
    });
    const sent = Date.now();
    const { jobId } = await deliverQueued({ repository });
    await waitForState(repository, jobId, ["started"], 30_000);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(7000);
    expect(await jitCalls(repository)).toHaveLength(2);
  }, 40_000);

  it("Modal UNAVAILABLE, then success: one sandbox in the end", async () => {
    const repository = uniqueRepository();
    const { jobId } = await (async () => {
      // The rule targets this job's runner name, which is only known once the job id is: take it first.
      const probe = await import("../../support/webhook.ts");
      const id = probe.uniqueJobId();
      await modal().fail({
        method: "SandboxCreateV2",
        grpcCode: 14,
        grpcMessage: "try again",
        match: `modal-${id}-1`,
        count: 1,
      });
      return deliverQueued({ repository, jobId: id });
    })();
    const record = await waitForState(repository, jobId, ["started"]);
    expect(record.sandboxId).toMatch(/^sb-/);
    const creates = await createCalls(`modal-${jobId}-1`);
    expect(creates.map((call) => call.grpcCode)).toEqual([14, 0]);
    expect((await modal().sandboxes()).filter((sandbox) => sandbox.name === `modal-${jobId}-1`)).toHaveLength(
      1,
    );
    // The client retried the call itself (same idempotency key): the runner registration was not touched.
    expect(await jitCalls(repository)).toHaveLength(1);
    const keys = creates.map((call) => call.headers["x-idempotency-key"]);
    expect(keys[0]).toBeDefined();
    expect(keys[1]).toBe(keys[0]);
  });

  it("Modal INVALID_ARGUMENT: the runner is deregistered and the job fails with a readable reason", async () => {
    const repository = uniqueRepository();
    const jobId = uniqueJobId();
    await modal().fail({
      method: "SandboxCreateV2",
      grpcCode: 3,
      grpcMessage: "cpu request exceeds the workspace limit",
      match: `modal-${jobId}-1`,
      count: 1,
    });
    await deliverQueued({ repository, jobId });
    const record = await waitForState(repository, jobId, ["failed"]);
    expect(record.lastError).toContain("cpu request exceeds the workspace limit");
    const requests = (await github().requests()).filter((request) =>
      request.path.includes(`/repos/${repository}/`),
    );
    const registered = requests.find((request) => request.route === JIT_ROUTE);
    expect(registered).toBeDefined();
    const deleted = requests.filter((request) => request.method === "DELETE");
    expect(deleted).toHaveLength(1);
    expect((await github().runners()).filter((runner) => runner.name === `modal-${jobId}-1`)).toHaveLength(0);
  });
});

describe("caching", () => {
  it("fetches the Modal app and image ids once for many jobs", async () => {
    const repository = uniqueRepository();
    const before = await modal().calls();
    const count = (calls: typeof before, method: string) =>
      calls.filter((call) => call.method === method).length;
    const jobs = await Promise.all(Array.from({ length: 5 }, () => deliverQueued({ repository })));
    for (const { jobId } of jobs) await waitForState(repository, jobId, ["started"]);
    const after = await modal().calls();
    expect(count(after, "AppGetOrCreate") - count(before, "AppGetOrCreate")).toBe(0);
    expect(count(after, "ImageGetOrCreate") - count(before, "ImageGetOrCreate")).toBe(0);
    expect(count(after, "SandboxCreateV2") - count(before, "SandboxCreateV2")).toBe(5);
    expect(count(after, "AppGetOrCreate")).toBe(1);
    expect(count(after, "ImageGetOrCreate")).toBe(1);
  });
});
