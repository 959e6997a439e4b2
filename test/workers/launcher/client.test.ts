// The launcher client against the launcher emulator, in workerd: every method, what goes over the wire (proxy
// auth, signature, body), the handles the dispatcher caches, and the configuration that selects this adapter.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import { createServices } from "../../../src/dispatch/services.ts";
import { createLogger } from "../../../src/log.ts";
import { withVars } from "../../support/vars.ts";
import {
  harness,
  hmacHex,
  IMAGE,
  JIT,
  LAUNCHER_SECRET,
  PROXY_TOKEN_ID,
  PROXY_TOKEN_SECRET,
  spec,
} from "./harness.ts";

describe("handles", () => {
  it("ensureApp returns the launcher's app handle, with the environment when there is one", async () => {
    const { client, emulator } = harness("handles-app");
    await emulator.settings({ environments: ["ci"] });
    expect(await client.ensureApp("actions-on-modal")).toBe("actions-on-modal");
    expect(await client.ensureApp("actions-on-modal", "ci")).toBe("ci/actions-on-modal");
    // An empty environment is the default one.
    expect(await client.ensureApp("actions-on-modal", "")).toBe("actions-on-modal");
    const bodies = (await emulator.calls({ route: "app" })).map((call) => call.body);
    expect(bodies).toEqual([
      { name: "actions-on-modal" },
      { name: "actions-on-modal", environment: "ci" },
      { name: "actions-on-modal" },
    ]);
  });

  it("ensureImage returns the registry tag once the launcher has accepted it", async () => {
    const { client, emulator } = harness("handles-image");
    expect(await client.ensureImage("actions-on-modal", IMAGE)).toBe(IMAGE);
    expect((await emulator.calls({ route: "image" }))[0]?.body).toEqual({
      app: "actions-on-modal",
      image: IMAGE,
    });
  });
});

describe("startRunner", () => {
  it("sends the spec in one signed call, with the JIT config only in env", async () => {
    const { client, emulator } = harness("start-wire");
    const started = await client.startRunner(spec({ gpu: "A10G" }));
    const [call, ...others] = await emulator.calls({ secrets: true });
    expect(others).toEqual([]);
    expect(call).toMatchObject({ method: "POST", path: "/start", status: 200 });
    expect(call?.body).toEqual({
      app: "actions-on-modal",
      name: "aom-1-runner",
      image: IMAGE,
      command: ["/home/runner/run.sh"],
      env: { ACTIONS_RUNNER_INPUT_JITCONFIG: JIT, RUNNER_ALLOW_RUNASROOT: "1" },
      cpu: 2,
      memory_mib: 4096,
      timeout_seconds: 3600,
      tags: { "job-id": "1", repository: "octo/hello", "runner-name": "aom-1-runner" },
      gpu: "A10G",
    });
    const headers = call?.headers ?? {};
    expect(headers["modal-key"]).toBe(PROXY_TOKEN_ID);
    expect(headers["modal-secret"]).toBe(PROXY_TOKEN_SECRET);
    expect(headers["content-type"]).toBe("application/json");
    // The signature covers timestamp, route and the exact bytes sent.
    const timestamp = headers["x-launcher-timestamp"] ?? "";
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
    expect(headers["x-launcher-signature"]).toBe(
      `sha256=${await hmacHex(LAUNCHER_SECRET, `${timestamp}.start.${call?.rawBody}`)}`,
    );
    // The sandbox got what was asked for, and the JIT config arrived.
    const [sandbox] = await emulator.sandboxes({ secrets: true });
    expect(started).toEqual({ sandboxId: sandbox?.sandboxId, alreadyStarted: false });
    expect(sandbox).toMatchObject({
      appName: "actions-on-modal",
      environment: null,
      name: "aom-1-runner",
      image: IMAGE,
      cpu: 2,
      memoryMiB: 4096,
      timeoutSeconds: 3600,
      gpu: "A10G",
      env: { ACTIONS_RUNNER_INPUT_JITCONFIG: JIT, RUNNER_ALLOW_RUNASROOT: "1" },
    });
  });

  it("a GPU job's sizing arrives as given: gpu with its count, regions, cpu, memory, timeout", async () => {
    const { client, emulator } = harness("start-sizing");
    await client.startRunner(
      spec({
        gpu: "H100:2",
        regions: ["us-east", "eu-west"],
        cpu: 8,
        memoryMiB: 65536,
        timeoutSeconds: 7200,
      }),
    );
    const [call] = await emulator.calls({ route: "start" });
    expect(call?.body).toMatchObject({
      gpu: "H100:2",
      regions: ["us-east", "eu-west"],
      cpu: 8,
      memory_mib: 65536,
      timeout_seconds: 7200,
    });
    const [sandbox] = await emulator.sandboxes();
    expect(sandbox).toMatchObject({
      gpu: "H100:2",
      regions: ["us-east", "eu-west"],
      cpu: 8,
      memoryMiB: 65536,
      timeoutSeconds: 7200,
    });
  });

  it("an image the operator allowed besides the default starts; one not allowed is refused", async () => {
    const { client, emulator } = harness("start-extra-image");
    const cuda = "ghcr.io/acme/runner-cuda:12.4";
    await emulator.settings({ allowedImages: `ghcr.io/actions/actions-runner:*,${cuda}` });
    expect(await client.ensureImage("actions-on-modal", cuda)).toBe(cuda);
    await client.startRunner(spec({ imageId: cuda, gpu: "L4" }));
    const refused = await client
      .startRunner(spec({ name: "aom-2-runner", imageId: "ghcr.io/acme/other:1" }))
      .catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ status: 403, reason: "image_not_allowed", retryable: false });
    const sandboxes = await emulator.sandboxes();
    expect(sandboxes.map((sandbox) => sandbox.image)).toEqual([cuda]);
  });

  it("omits gpu for a CPU runner", async () => {
    const { client, emulator } = harness("start-cpu");
    await client.startRunner(spec());
    const [call] = await emulator.calls({ route: "start" });
    expect(call?.body).not.toHaveProperty("gpu");
    expect(call?.body).not.toHaveProperty("regions");
    expect((await emulator.sandboxes())[0]?.regions).toBeNull();
    // Without `secrets`, the emulator's record hides env values too.
    expect(call?.body).toMatchObject({ env: { ACTIONS_RUNNER_INPUT_JITCONFIG: "[redacted]" } });
  });

  it("a name already running answers with that sandbox: alreadyStarted", async () => {
    const { client, emulator } = harness("start-twice");
    const first = await client.startRunner(spec());
    const second = await client.startRunner(spec());
    expect(second).toEqual({ sandboxId: first.sandboxId, alreadyStarted: true });
    expect(await emulator.sandboxes()).toHaveLength(1);
  });

  it("a lost answer: the retry finds the sandbox the first attempt started", async () => {
    const { client, emulator } = harness("start-lost");
    await emulator.fail({ route: "start", status: 502, afterEffect: true });
    const error = await client.startRunner(spec()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ retryable: true, status: 502 });
    const retried = await client.startRunner(spec());
    const [sandbox] = await emulator.sandboxes();
    expect(retried).toEqual({ sandboxId: sandbox?.sandboxId, alreadyStarted: true });
  });

  it("a finished sandbox frees its name", async () => {
    const { client, emulator } = harness("start-after-finish");
    const first = await client.startRunner(spec());
    await emulator.finish(first.sandboxId);
    const second = await client.startRunner(spec());
    expect(second.alreadyStarted).toBe(false);
    expect(second.sandboxId).not.toBe(first.sandboxId);
  });
});

describe("listRunners and terminate", () => {
  it("lists running sandboxes with every given tag, with name and creation time", async () => {
    const before = Date.now();
    const { client, emulator } = harness("list");
    await emulator.settings({ environments: ["ci"] });
    const one = await client.startRunner(spec());
    await client.startRunner(
      spec({
        name: "aom-2-runner",
        tags: { "job-id": "2", repository: "octo/hello", "runner-name": "aom-2-runner" },
      }),
    );
    const listed = await client.listRunners("actions-on-modal", { "runner-name": "aom-1-runner" });
    expect(listed).toEqual([
      {
        sandboxId: one.sandboxId,
        name: "aom-1-runner",
        tags: { "job-id": "1", repository: "octo/hello", "runner-name": "aom-1-runner" },
        createdAt: expect.any(Number),
      },
    ]);
    expect(listed[0]?.createdAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(listed[0]?.createdAt).toBeLessThanOrEqual(Date.now());
    const all = await client.listRunners("actions-on-modal", { repository: "octo/hello" });
    expect(all.map((entry) => entry.name)).toEqual(["aom-2-runner", "aom-1-runner"]);
    expect(await client.listRunners("actions-on-modal", { "runner-name": "nobody" })).toEqual([]);
    expect(await client.listRunners("ci/actions-on-modal", {})).toEqual([]);
  });

  it("terminate ends a running sandbox, and a gone one is not an error", async () => {
    const { client, emulator } = harness("terminate");
    const { sandboxId } = await client.startRunner(spec());
    await client.terminate(sandboxId);
    expect((await emulator.sandboxes())[0]?.running).toBe(false);
    expect(await client.listRunners("actions-on-modal", {})).toEqual([]);
    await client.terminate(sandboxId);
    await client.terminate("sb-neverexisted");
    const answers = (await emulator.calls({ route: "terminate" })).map((call) => call.status);
    expect(answers).toEqual([200, 200, 200]);
  });
});

describe("configuration", () => {
  it("MODAL_LAUNCHER_URL selects the launcher adapter, built from the launcher variables", async () => {
    const { emulator } = harness("config");
    const config = loadConfig(
      withVars({
        MODAL_LAUNCHER_URL: emulator.url,
        MODAL_PROXY_TOKEN_ID: PROXY_TOKEN_ID,
        MODAL_PROXY_TOKEN_SECRET: PROXY_TOKEN_SECRET,
        LAUNCHER_SECRET,
      }),
    );
    if (!config.dispatch.ok) throw new Error(JSON.stringify(config.dispatch.problems));
    expect(config.dispatch.value.modal.mode).toBe("launcher");
    const services = createServices(config.dispatch.value, {
      fetch,
      now: Date.now,
      logger: createLogger({ sink: () => {} }),
    });
    expect(await services.sandboxes.ensureApp("actions-on-modal")).toBe("actions-on-modal");
    const [call] = await emulator.calls();
    expect(call?.headers["modal-key"]).toBe(PROXY_TOKEN_ID);
    expect(call?.status).toBe(200);
  });
});
