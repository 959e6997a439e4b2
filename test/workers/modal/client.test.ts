// The Modal client against the emulator over real HTTP, in workerd: every SandboxProvider method, the calls each
// one costs, and what lands on the wire.
import { describe, expect, it } from "vitest";
import { PermanentError, RetryableError } from "../../../src/errors.ts";
import { harness, IMAGE, JIT, rejection, spec } from "./harness.ts";

async function ready(name: string, options: Parameters<typeof harness>[1] = {}) {
  const setup = harness(name, options);
  const appId = await setup.client.ensureApp("actions-on-modal");
  const imageId = await setup.client.ensureImage(appId, IMAGE);
  return { ...setup, appId, imageId };
}

describe("ensureApp / ensureImage", () => {
  it("creates the app once, and sends the SDK's identifying headers with the auth token", async () => {
    const { client, emulator } = harness("app");
    const first = await client.ensureApp("actions-on-modal");
    expect(first).toMatch(/^ap-[A-Za-z0-9]{22}$/);
    expect(await client.ensureApp("actions-on-modal")).toBe(first);
    const calls = await emulator.calls();
    expect(calls.map((call) => call.method)).toEqual(["AuthTokenGet", "AppGetOrCreate", "AppGetOrCreate"]);
    expect(calls[1]?.request).toEqual({ app_name: "actions-on-modal", object_creation_type: 1 });
    expect(calls[1]?.headers).toMatchObject({
      "content-type": "application/grpc",
      "x-modal-client-type": "8",
      "x-modal-client-version": "1.0.0",
      "x-modal-token-id": "ak-harnesstoken0001",
      "x-modal-host": "127.0.0.1",
      "x-retry-attempt": "0",
    });
    expect(calls[1]?.headers["x-modal-auth-token"]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(calls[0]?.headers["x-modal-auth-token"]).toBeUndefined();
  });

  it("passes the environment, and an unknown one is a permanent NOT_FOUND", async () => {
    const { client, emulator } = harness("app-env", { environment: "ci" });
    const error = await rejection(client.ensureApp("actions-on-modal"));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ grpcCode: 5, operation: "AppGetOrCreate" });
    await emulator.environment("ci");
    await client.ensureApp("actions-on-modal");
    expect((await emulator.calls("AppGetOrCreate")).at(-1)?.request).toMatchObject({
      environment_name: "ci",
    });
  });

  it("builds a registry image with the environment's builder version, asked once per client", async () => {
    const { client, emulator, appId, imageId } = await ready("image");
    expect(imageId).toMatch(/^im-/);
    expect(await client.ensureImage(appId, IMAGE)).toBe(imageId);
    const calls = await emulator.calls();
    expect(calls.filter((call) => call.method === "EnvironmentGetOrCreate")).toHaveLength(1);
    expect(calls.find((call) => call.method === "ImageGetOrCreate")?.request).toEqual({
      image: { dockerfile_commands: [`FROM ${IMAGE}`] },
      app_id: appId,
      builder_version: "2025.06",
    });
  });

  it("follows ImageJoinStreaming while the image builds, resuming from the last entry", async () => {
    const { client, emulator } = harness("image-build");
    await emulator.image({ buildPolls: 3 });
    const appId = await client.ensureApp("actions-on-modal");
    const imageId = await client.ensureImage(appId, IMAGE);
    const joins = await emulator.calls("ImageJoinStreaming");
    expect(joins.map((call) => call.request)).toEqual([
      { image_id: imageId, timeout: 55 },
      { image_id: imageId, timeout: 55, last_entry_id: "1-0" },
      { image_id: imageId, timeout: 55, last_entry_id: "2-0" },
      { image_id: imageId, timeout: 55, last_entry_id: "3-0" },
    ]);
    // The SDK sends no idempotency headers on server streams; neither do we.
    expect(joins[0]?.headers["x-idempotency-key"]).toBeUndefined();
  });

  it("fails clearly on a failed, timed-out or terminated build", async () => {
    const outcomes: Array<[number, typeof PermanentError | typeof RetryableError, string]> = [
      [2, PermanentError, "image_build_failed"],
      [4, RetryableError, "image_build_timeout"],
      [3, RetryableError, "image_build_terminated"],
    ];
    for (const [outcome, kind, reason] of outcomes) {
      const { client, emulator } = harness(`image-outcome-${outcome}`);
      await emulator.image({ buildPolls: 1, outcome, exception: "Step 1/1 failed" });
      const appId = await client.ensureApp("actions-on-modal");
      const error = await rejection(client.ensureImage(appId, IMAGE));
      expect(error).toBeInstanceOf(kind);
      expect(error).toMatchObject({ reason, operation: "ImageGetOrCreate" });
    }
  });

  it("leaves a build that outlasts its budget to a later retry", async () => {
    // Every reading of the injected clock moves it one second on: the 30 s budget runs out after a few polls.
    let clock = 0;
    const { client, emulator } = harness("image-slow", {
      now: () => (clock += 1000),
      imageBuildTimeoutMs: 30_000,
    });
    await emulator.image({ buildPolls: 1000 });
    const appId = await client.ensureApp("actions-on-modal");
    const error = await rejection(client.ensureImage(appId, IMAGE));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ reason: "image_building", retryAfterSeconds: 30 });
    const polls = (await emulator.calls("ImageJoinStreaming")).length;
    expect(polls).toBeGreaterThan(0);
    expect(polls).toBeLessThan(30);
  });

  it("rejects an image reference that is not one word, without a call", async () => {
    const { client, emulator } = harness("image-bad");
    const error = await rejection(client.ensureImage("ap-x", "ubuntu\nRUN curl evil"));
    expect(error).toMatchObject({ reason: "invalid_argument" });
    expect(await emulator.calls()).toEqual([]);
  });
});

describe("startRunner", () => {
  it("a CPU runner with warm caches costs exactly one call: SandboxCreateV2 with env as a secret source", async () => {
    const { client, emulator, appId, imageId } = await ready("start-cpu");
    const before = (await emulator.calls()).length;
    const started = await client.startRunner(spec(appId, imageId));
    const calls = (await emulator.calls()).slice(before);
    expect(calls.map((call) => call.method)).toEqual(["SandboxCreateV2"]);
    expect(started).toEqual({ sandboxId: expect.stringMatching(/^sb-/), alreadyStarted: false });
    expect(calls[0]?.request).toEqual({
      app_id: appId,
      definition: {
        entrypoint_args: ["/home/runner/run.sh"],
        image_id: imageId,
        resources: { memory_mb: 4096, milli_cpu: 2000, gpu_config: {} },
        timeout_secs: 3600,
        open_ports: {},
        network_access: { network_access_type: 1 },
        name: "aom-1-runner",
      },
      tags: [
        { tag_name: "aom-runner", tag_value: "aom-1-runner" },
        { tag_name: "aom-job", tag_value: "1" },
      ],
      secret_sources: [
        { env: { contents: { ACTIONS_RUNNER_INPUT_JITCONFIG: JIT, RUNNER_ALLOW_RUNASROOT: "1" } } },
      ],
    });
    const [sandbox] = await emulator.sandboxes();
    expect(sandbox?.env.ACTIONS_RUNNER_INPUT_JITCONFIG).toBe(JIT);
  });

  it("a GPU runner takes the SDK's V1 path: ephemeral secret, then SandboxCreate", async () => {
    const { client, emulator, appId, imageId } = await ready("start-gpu");
    const before = (await emulator.calls()).length;
    const started = await client.startRunner(spec(appId, imageId, { gpu: "h100:2", name: "gpu-runner" }));
    const calls = (await emulator.calls()).slice(before);
    expect(calls.map((call) => call.method)).toEqual(["SecretGetOrCreate", "SandboxCreate"]);
    expect(calls[0]?.request).toEqual({
      object_creation_type: 5,
      env_dict: { ACTIONS_RUNNER_INPUT_JITCONFIG: JIT, RUNNER_ALLOW_RUNASROOT: "1" },
    });
    expect(calls[1]?.request).toMatchObject({
      definition: {
        secret_ids: [expect.stringMatching(/^st-/)],
        resources: { memory_mb: 4096, milli_cpu: 2000, gpu_config: { count: 2, gpu_type: "H100" } },
        name: "gpu-runner",
      },
    });
    expect(JSON.stringify(calls[1]?.request)).not.toContain(JIT);
    expect(started.sandboxId).toMatch(/^sb-[0-9A-Za-z]{22}$/);
  });

  it("without env, no secret is sent (as the SDK)", async () => {
    const { client, emulator, appId, imageId } = await ready("start-noenv");
    await client.startRunner(spec(appId, imageId, { env: {}, gpu: "A10G" }));
    await client.startRunner(spec(appId, imageId, { env: {}, name: "cpu-noenv" }));
    const calls = await emulator.calls();
    expect(calls.some((call) => call.method === "SecretGetOrCreate")).toBe(false);
    expect(calls.at(-1)?.request).not.toHaveProperty("secret_sources");
  });

  it("ALREADY_EXISTS means already started: resolved to the running sandbox by tags", async () => {
    const { client, emulator, appId, imageId } = await ready("start-twice");
    const first = await client.startRunner(spec(appId, imageId));
    const before = (await emulator.calls()).length;
    const second = await client.startRunner(spec(appId, imageId));
    expect(second).toEqual({ sandboxId: first.sandboxId, alreadyStarted: true });
    const calls = (await emulator.calls()).slice(before);
    expect(calls.map((call) => [call.method, call.grpcCode])).toEqual([
      ["SandboxCreateV2", 6],
      ["SandboxListV2", 0],
    ]);
    expect(calls[1]?.request).toMatchObject({
      app_id: appId,
      tags: expect.arrayContaining([{ tag_name: "aom-job", tag_value: "1" }]),
    });
  });

  it("a finished runner frees its name: the next start creates a new sandbox", async () => {
    const { client, emulator, appId, imageId } = await ready("start-after-finish");
    const first = await client.startRunner(spec(appId, imageId));
    await emulator.finish(first.sandboxId);
    const second = await client.startRunner(spec(appId, imageId));
    expect(second.alreadyStarted).toBe(false);
    expect(second.sandboxId).not.toBe(first.sandboxId);
  });

  it("refuses specs Modal would reject, or that would leak the JIT config, before any call", async () => {
    const { client, emulator } = harness("start-invalid");
    const bad = [
      spec("ap-x", "im-x", { name: "has space" }),
      spec("ap-x", "im-x", { name: "x".repeat(65) }),
      spec("ap-x", "im-x", { timeoutSeconds: 24 * 3600 + 1 }),
      spec("ap-x", "im-x", { cpu: 0 }),
      spec("ap-x", "im-x", { command: [] }),
      spec("ap-x", "im-x", { env: { "1BAD": "x" } }),
      spec("ap-x", "im-x", { gpu: "A10G:0" }),
      spec("ap-x", "im-x", { command: ["./run.sh", "--jitconfig", JIT] }),
      spec("ap-x", "im-x", { tags: { jit: JIT } }),
    ];
    for (const runner of bad) {
      const error = await rejection(client.startRunner(runner));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error).toMatchObject({ reason: "invalid_argument" });
      expect(String(error)).not.toContain(JIT);
    }
    expect(await emulator.calls()).toEqual([]);
  });
});

describe("startRunner: per-job sizing", () => {
  it("sends regions as the SDK's scheduler_placement, on the V2 and the V1 path, and Modal records them", async () => {
    const { client, emulator, appId, imageId } = await ready("sizing-regions");
    const cpu = await client.startRunner(spec(appId, imageId, { name: "cpu", regions: ["us-east"] }));
    const gpu = await client.startRunner(
      spec(appId, imageId, {
        name: "gpu",
        gpu: "L4:2",
        cpu: 8,
        memoryMiB: 32768,
        timeoutSeconds: 7200,
        regions: ["us-east", "eu-west-1"],
      }),
    );
    const [v2] = await emulator.calls("SandboxCreateV2");
    const [v1] = await emulator.calls("SandboxCreate");
    expect(v2?.request?.definition).toMatchObject({ scheduler_placement: { regions: ["us-east"] } });
    expect(v1?.request?.definition).toMatchObject({
      scheduler_placement: { regions: ["us-east", "eu-west-1"] },
    });
    const sandboxes = new Map((await emulator.sandboxes()).map((sandbox) => [sandbox.id, sandbox]));
    expect(sandboxes.get(cpu.sandboxId)).toMatchObject({
      regions: ["us-east"],
      resources: { milliCpu: 2000, memoryMb: 4096 },
      timeoutSecs: 3600,
    });
    expect(sandboxes.get(cpu.sandboxId)?.resources.gpu).toBeUndefined();
    expect(sandboxes.get(gpu.sandboxId)).toMatchObject({
      regions: ["us-east", "eu-west-1"],
      resources: { milliCpu: 8000, memoryMb: 32768, gpu: { type: "L4", count: 2 } },
      timeoutSecs: 7200,
    });
  });

  it("sends no scheduler_placement without regions (any region), as the SDK", async () => {
    const { client, emulator, appId, imageId } = await ready("sizing-no-regions");
    await client.startRunner(spec(appId, imageId, { regions: [] }));
    const [call] = await emulator.calls("SandboxCreateV2");
    expect(call?.request?.definition).not.toHaveProperty("scheduler_placement");
    expect((await emulator.sandboxes())[0]?.regions).toEqual([]);
  });

  it("refuses a region that is not a lowercase name before any call", async () => {
    const { client, emulator } = harness("sizing-bad-region");
    for (const regions of [[""], ["US-East"], ["us east"], ["us-"], ["-us"], ["us-east", "eu_west"]]) {
      const error = await rejection(client.startRunner(spec("ap-x", "im-x", { regions })));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error).toMatchObject({ reason: "invalid_argument", operation: "SandboxCreateV2" });
    }
    expect(await emulator.calls()).toEqual([]);
  });

  it("an unknown GPU type, or too many GPUs, is Modal's INVALID_ARGUMENT: permanent, not retried", async () => {
    const { client, emulator, appId, imageId } = await ready("sizing-bad-gpu");
    for (const gpu of ["V100", "H100:9", "A10G:5"]) {
      const error = await rejection(client.startRunner(spec(appId, imageId, { name: "gpu", gpu })));
      expect(error).toBeInstanceOf(PermanentError);
      expect(error).toMatchObject({ grpcCode: 3, operation: "SandboxCreate" });
    }
    const creates = await emulator.calls("SandboxCreate");
    expect(creates.map((call) => call.grpcCode)).toEqual([3, 3, 3]);
    expect(await emulator.sandboxes()).toEqual([]);
  });

  it("accepts the aliases Modal documents (A100, H100!, B200+)", async () => {
    const { client, emulator, appId, imageId } = await ready("sizing-gpu-aliases");
    for (const [index, gpu] of ["a100", "H100!:8", "B200+"].entries()) {
      await client.startRunner(spec(appId, imageId, { name: `gpu-${index}`, gpu }));
    }
    expect((await emulator.sandboxes()).map((sandbox) => sandbox.resources.gpu)).toEqual([
      { type: "A100", count: 1 },
      { type: "H100!", count: 8 },
      { type: "B200+", count: 1 },
    ]);
  });
});

describe("listRunners / terminate / wait", () => {
  it("lists running sandboxes by tags across pages, newest first", async () => {
    const { client, emulator, appId, imageId } = await ready("list");
    await emulator.settings({ listPageSize: 2 });
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const tags = { pool: "a", index: String(index) };
      ids.push((await client.startRunner(spec(appId, imageId, { name: `runner-${index}`, tags }))).sandboxId);
    }
    await client.startRunner(spec(appId, imageId, { name: "other", tags: { pool: "b" } }));
    await emulator.finish(ids[0] ?? "");
    const before = (await emulator.calls()).length;
    const listed = await client.listRunners(appId, { pool: "a" });
    expect(listed.map((runner) => runner.sandboxId)).toEqual(ids.slice(1).reverse());
    expect(listed[0]).toMatchObject({ name: "runner-4", tags: { pool: "a", index: "4" } });
    expect(listed[0]?.createdAt).toBeGreaterThan(1_600_000_000_000);
    const pages = (await emulator.calls()).slice(before);
    // Two full pages and the empty page that ends the listing, as the SDK pages.
    expect(pages.map((call) => call.method)).toEqual(["SandboxListV2", "SandboxListV2", "SandboxListV2"]);
    expect(pages[1]?.request?.before_timestamp).toBeTypeOf("number");
  });

  it("terminates V2 and V1 sandboxes with their own call; a missing one is not an error", async () => {
    const { client, emulator, appId, imageId } = await ready("terminate");
    const cpu = await client.startRunner(spec(appId, imageId));
    const gpu = await client.startRunner(spec(appId, imageId, { name: "gpu", gpu: "A10G" }));
    await client.terminate(cpu.sandboxId);
    await client.terminate(gpu.sandboxId);
    await client.terminate(cpu.sandboxId);
    await client.terminate("sb-01AAAAAAAAAAAAAAAAAAAAAAAA");
    const calls = await emulator.calls();
    expect(
      calls
        .filter((call) => call.method.startsWith("SandboxTerminate"))
        .map((call) => [call.method, call.grpcCode]),
    ).toEqual([
      ["SandboxTerminateV2", 0],
      ["SandboxTerminate", 0],
      ["SandboxTerminateV2", 0],
      ["SandboxTerminateV2", 5],
    ]);
    expect((await emulator.sandboxes()).map((sandbox) => sandbox.result?.status)).toEqual([3, 3]);
  });
});
