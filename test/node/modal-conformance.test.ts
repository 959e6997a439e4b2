/**
 * The proof that our Modal client speaks Modal's protocol: the official SDK (modal@0.11.1, real gRPC over HTTP/2
 * through @grpc/grpc-js) and our client (gRPC over HTTP/1.1 through fetch) perform the same operations with the
 * same parameters, each against its own namespace of one emulator. The emulator decodes both with the SDK's
 * field numbers (schema.ts, itself checked against the SDK's generated code in modal-schema.test.ts) and answers
 * both the same way (a fixed clock and per-namespace id counters make ids and timestamps equal too). Then:
 *
 * - the sequence of RPCs is the SDK's, minus the calls listed in DELIBERATE.skippedCalls;
 * - every request carries the same fields: numbers, wire types and values, down to nested messages;
 * - every request message is byte-for-byte the SDK's;
 * - the gRPC metadata a server sees (the x-modal-* headers, idempotency headers) matches, minus
 *   DELIBERATE.headers.
 *
 * The allow-list is checked both ways: an unexpected difference fails, and so does an entry that no longer
 * happens (the list must stay true).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModalClient } from "../../src/sandboxes/direct/client.ts";
import { type EmulatorCall, modalEmulator } from "../emulators/modal/control-client.ts";
import { METHODS } from "../emulators/modal/schema.ts";
import { type RunningModalEmulator, startModalEmulator } from "../emulators/modal/server.ts";
import { flattenFields } from "./support/field-paths.ts";
import { startSdkCaptureServer } from "./support/sdk-capture-server.ts";

/** Differences we choose, and why. */
const DELIBERATE = {
  skippedCalls: {
    SandboxGetTaskId:
      "After a GPU SandboxCreate the SDK blocks until the sandbox is scheduled (SandboxGetTaskId polls, up to " +
      "21 min, terminating it on timeout). A dispatcher must not hold a queue message that long: the runner " +
      "registering with GitHub, or the reconciler, tells us whether it started.",
  } as Record<string, string>,
  headers: {
    "user-agent":
      "grpc-js announces itself as grpc-node-js/<version>; we say actions-on-modal, so Modal can tell us apart " +
      "(the x-modal-client-* headers, which Modal uses for compatibility, are the SDK's).",
  } as Record<string, string>,
};

/** Headers whose values are per call or per session by nature: compared by shape, not value. */
const SHAPES: Record<string, RegExp> = {
  "x-idempotency-key": /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  "x-modal-auth-token": /^[\w-]+\.[\w-]+\.[\w-]+$/,
};

const TOKEN_ID = "ak-conformance0001";
const TOKEN_SECRET = "as-conformance0001";
const ENVIRONMENT = "ci";
const APP = "actions-on-modal-conformance";
const IMAGE = "ghcr.io/actions/actions-runner:2.330.0";
const COMMAND = [
  "/bin/sh",
  "-c",
  'cd /home/runner && ./run.sh --jitconfig "$ACTIONS_RUNNER_INPUT_JITCONFIG"',
];
const CPU_ENV = {
  ACTIONS_RUNNER_INPUT_JITCONFIG: "eyJjcHUtaml0LWNvbmZpZyI6InNlY3JldCJ9LmNwdS1ydW5uZXItY29uZmlnLWJsb2I=",
  RUNNER_ALLOW_RUNASROOT: "1",
};
const GPU_ENV = {
  ACTIONS_RUNNER_INPUT_JITCONFIG: "eyJncHUtaml0LWNvbmZpZyI6InNlY3JldCJ9LmdwdS1ydW5uZXItY29uZmlnLWJsb2I=",
  RUNNER_ALLOW_RUNASROOT: "1",
};
const CPU = { name: "aom-12345-cpu", tags: { pool: "conformance", runner: "aom-12345-cpu", job: "12345" } };
const GPU = { name: "aom-12346-gpu", tags: { pool: "conformance", runner: "aom-12346-gpu", job: "12346" } };
/** Per-job sizing: a GPU count, regions, and cpu/memory/timeout other than the defaults above. */
const SIZED_GPU = {
  name: "aom-12347-gpu",
  tags: { pool: "conformance", runner: "aom-12347-gpu", job: "12347" },
};
const SIZED_CPU = {
  name: "aom-12348-cpu",
  tags: { pool: "conformance", runner: "aom-12348-cpu", job: "12348" },
};
const REGIONS = ["us-east"];
const SIZED = { cpu: 8, memoryMiB: 32768, gpu: "L4:2", timeoutSeconds: 7200 };
/** The image builds for two ImageJoinStreaming polls, so the long-poll request is compared too. */
const BUILD_POLLS = 2;

let emulator: RunningModalEmulator;
let sdkCalls: EmulatorCall[];
let ourCalls: EmulatorCall[];

async function runSdk(serverUrl: string): Promise<void> {
  process.env.MODAL_SERVER_URL = serverUrl;
  // Keep a developer's ~/.modal.toml out of it: credentials and environment come from here only.
  process.env.MODAL_CONFIG_PATH = "/nonexistent/modal-conformance.toml";
  const { ModalClient } = await import("modal");
  const modal = new ModalClient({ tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, environment: ENVIRONMENT });
  try {
    const app = await modal.apps.fromName(APP, { createIfMissing: true });
    const image = modal.images.fromRegistry(IMAGE);
    const common = { command: COMMAND, cpu: 2, memoryMiB: 4096, timeoutMs: 3600_000 };
    const cpu = await modal.sandboxes.create(app, image, {
      ...common,
      env: CPU_ENV,
      name: CPU.name,
      tags: CPU.tags,
    });
    const gpu = await modal.sandboxes.create(app, image, {
      ...common,
      env: GPU_ENV,
      name: GPU.name,
      tags: GPU.tags,
      gpu: "A10G",
    });
    const sizedGpu = await modal.sandboxes.create(app, image, {
      command: COMMAND,
      cpu: SIZED.cpu,
      memoryMiB: SIZED.memoryMiB,
      timeoutMs: SIZED.timeoutSeconds * 1000,
      gpu: SIZED.gpu,
      regions: REGIONS,
      env: GPU_ENV,
      name: SIZED_GPU.name,
      tags: SIZED_GPU.tags,
    });
    const sizedCpu = await modal.sandboxes.create(app, image, {
      ...common,
      regions: REGIONS,
      env: CPU_ENV,
      name: SIZED_CPU.name,
      tags: SIZED_CPU.tags,
    });
    const listed: string[] = [];
    for await (const sandbox of modal.sandboxes.list({ appId: app.appId, tags: { pool: "conformance" } })) {
      listed.push(sandbox.sandboxId);
    }
    expect(listed).toEqual([sizedCpu.sandboxId, sizedGpu.sandboxId, gpu.sandboxId, cpu.sandboxId]);
    await cpu.terminate();
    await gpu.terminate();
    await sizedGpu.terminate();
    await sizedCpu.terminate();
  } finally {
    modal.close();
  }
}

async function runOurs(serverUrl: string): Promise<void> {
  const client = createModalClient({
    serverUrl,
    tokenId: TOKEN_ID,
    tokenSecret: TOKEN_SECRET,
    environment: ENVIRONMENT,
    fetch: (url, init) => fetch(url, init),
  });
  const appId = await client.ensureApp(APP);
  const imageId = await client.ensureImage(appId, IMAGE);
  const common = { appId, imageId, command: COMMAND, cpu: 2, memoryMiB: 4096, timeoutSeconds: 3600 };
  const cpu = await client.startRunner({ ...common, env: CPU_ENV, ...CPU });
  const gpu = await client.startRunner({ ...common, env: GPU_ENV, ...GPU, gpu: "A10G" });
  const sizedGpu = await client.startRunner({
    ...common,
    ...SIZED,
    regions: REGIONS,
    env: GPU_ENV,
    ...SIZED_GPU,
  });
  const sizedCpu = await client.startRunner({ ...common, regions: REGIONS, env: CPU_ENV, ...SIZED_CPU });
  const listed = await client.listRunners(appId, { pool: "conformance" });
  expect(listed.map((runner) => runner.sandboxId)).toEqual([
    sizedCpu.sandboxId,
    sizedGpu.sandboxId,
    gpu.sandboxId,
    cpu.sandboxId,
  ]);
  await client.terminate(cpu.sandboxId);
  await client.terminate(gpu.sandboxId);
  await client.terminate(sizedGpu.sandboxId);
  await client.terminate(sizedCpu.sandboxId);
}

beforeAll(async () => {
  const clock = Date.now();
  emulator = await startModalEmulator({ now: () => clock });
  const sdkNamespace = modalEmulator(emulator.url, "conformance-sdk");
  const ourNamespace = modalEmulator(emulator.url, "conformance-ours");
  for (const namespace of [sdkNamespace, ourNamespace]) {
    await namespace.environment(ENVIRONMENT);
    await namespace.image({ buildPolls: BUILD_POLLS });
  }
  const capture = await startSdkCaptureServer(emulator.emulator, "conformance-sdk");
  try {
    await runSdk(capture.url);
  } finally {
    await capture.close();
  }
  await runOurs(ourNamespace.url);
  sdkCalls = await sdkNamespace.calls();
  ourCalls = await ourNamespace.calls();
}, 60_000);

afterAll(async () => {
  await emulator?.close();
});

/** Pairs our calls with the SDK's, leaving out the SDK calls we skip on purpose. */
function pairs(): Array<[EmulatorCall, EmulatorCall]> {
  const compared = sdkCalls.filter((call) => DELIBERATE.skippedCalls[call.method] === undefined);
  return compared.map((call, index): [EmulatorCall, EmulatorCall] => {
    const ours = ourCalls[index];
    if (ours === undefined) throw new Error(`we made no call where the SDK made ${call.method}`);
    return [call, ours];
  });
}

const requestType = (call: EmulatorCall) => METHODS[call.method]?.request ?? "Empty";
const decoded = (call: EmulatorCall): Record<string, unknown> => {
  if (call.request === null) throw new Error(`${call.method} request did not decode`);
  return call.request;
};

describe("conformance with the official SDK (modal@0.11.1)", () => {
  it("both clients succeed on every call (the emulator accepts what the SDK sends)", () => {
    expect(sdkCalls.filter((call) => call.grpcCode !== 0)).toEqual([]);
    expect(ourCalls.filter((call) => call.grpcCode !== 0)).toEqual([]);
  });

  it("makes the SDK's calls in the SDK's order, except the deliberate skips", () => {
    const skipped = sdkCalls
      .filter((call) => DELIBERATE.skippedCalls[call.method] !== undefined)
      .map((call) => call.method);
    expect(ourCalls.map((call) => call.method)).toEqual(
      sdkCalls
        .filter((call) => DELIBERATE.skippedCalls[call.method] === undefined)
        .map((call) => call.method),
    );
    // Every allow-list entry is still needed.
    expect([...new Set(skipped)].sort()).toEqual(Object.keys(DELIBERATE.skippedCalls).sort());
    // The flows exercised every RPC of the issue.
    expect(new Set(ourCalls.map((call) => call.method))).toEqual(
      new Set([
        "AuthTokenGet",
        "AppGetOrCreate",
        "EnvironmentGetOrCreate",
        "ImageGetOrCreate",
        "ImageJoinStreaming",
        "SandboxCreateV2",
        "SecretGetOrCreate",
        "SandboxCreate",
        "SandboxListV2",
        "SandboxTerminateV2",
        "SandboxTerminate",
      ]),
    );
  });

  it("sends the same fields (numbers, wire types, values) in every request", () => {
    const report: string[] = [];
    for (const [sdk, ours] of pairs()) {
      const sdkFields = flattenFields(requestType(sdk), decoded(sdk));
      const ourFields = flattenFields(requestType(ours), decoded(ours));
      expect({ method: ours.method, fields: ourFields }).toEqual({ method: sdk.method, fields: sdkFields });
      report.push(`${sdk.method}: ${sdkFields.length} fields equal`);
    }
    console.info(`conformance, fields per RPC:\n  ${report.join("\n  ")}`);
  });

  it("sends byte-identical request messages", () => {
    for (const [sdk, ours] of pairs())
      expect({ method: ours.method, raw: ours.raw }).toEqual({ method: sdk.method, raw: sdk.raw });
  });

  it("sends the SDK's gRPC metadata, except the deliberate header differences", () => {
    const differences = new Set<string>();
    for (const [sdk, ours] of pairs()) {
      // What a gRPC server hands the application: grpc-js strips transport headers (content-type, te,
      // grpc-accept-encoding, …) from the SDK's side, so only the SDK's metadata names are compared, plus any
      // x-* header of ours the SDK did not send.
      const names = new Set([
        ...Object.keys(sdk.headers),
        ...Object.keys(ours.headers).filter((name) => name.startsWith("x-")),
      ]);
      for (const name of names) {
        const expected = sdk.headers[name];
        const actual = ours.headers[name];
        const shape = SHAPES[name];
        const same =
          shape !== undefined && expected !== undefined && actual !== undefined
            ? shape.test(expected) && shape.test(actual)
            : expected === actual;
        if (!same) differences.add(name);
        if (!same && DELIBERATE.headers[name] === undefined) {
          expect({ method: sdk.method, header: name, value: actual }).toEqual({
            method: sdk.method,
            header: name,
            value: expected,
          });
        }
      }
    }
    expect([...differences].sort()).toEqual(Object.keys(DELIBERATE.headers).sort());
  });

  it("keeps one idempotency key per logical call, and none on the server stream (as the SDK)", () => {
    for (const [sdk, ours] of pairs()) {
      expect(ours.headers["x-idempotency-key"] === undefined).toBe(
        sdk.headers["x-idempotency-key"] === undefined,
      );
      expect(ours.headers["x-retry-attempt"]).toBe(sdk.headers["x-retry-attempt"]);
    }
    const keys = ourCalls.map((call) => call.headers["x-idempotency-key"]).filter((key) => key !== undefined);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("sends the sized sandboxes' GPU count, regions, cpu, memory and timeout as the SDK does", async () => {
    const sandboxes = async (namespace: string) =>
      (await modalEmulator(emulator.url, namespace).sandboxes()).map((sandbox) => ({
        name: sandbox.name,
        resources: sandbox.resources,
        regions: sandbox.regions,
        timeoutSecs: sandbox.timeoutSecs,
      }));
    const ours = await sandboxes("conformance-ours");
    expect(ours).toEqual(await sandboxes("conformance-sdk"));
    expect(ours.find((sandbox) => sandbox.name === SIZED_GPU.name)).toEqual({
      name: SIZED_GPU.name,
      resources: { milliCpu: 8000, memoryMb: 32768, gpu: { type: "L4", count: 2 } },
      regions: REGIONS,
      timeoutSecs: 7200,
    });
    expect(ours.find((sandbox) => sandbox.name === SIZED_CPU.name)?.regions).toEqual(REGIONS);
  });

  it("never puts the JIT config in arguments, names or tags", () => {
    for (const call of ourCalls) {
      // Everything but the secret sources: the definition (args, name, …) and the tags.
      const visible = JSON.stringify([call.request?.definition ?? null, call.request?.tags ?? []]);
      expect(visible).not.toContain(CPU_ENV.ACTIONS_RUNNER_INPUT_JITCONFIG);
      expect(visible).not.toContain(GPU_ENV.ACTIONS_RUNNER_INPUT_JITCONFIG);
    }
  });
});
