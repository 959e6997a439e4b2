/**
 * `npm run bench:modal`: what one runner costs on the Modal side.
 *
 * 1. CPU time of our codec per sandbox creation: encoding the request (protobuf + gRPC frame) and decoding the
 *    answer (frame + protobuf + required-field check), for the V2 path (CPU) and the V1 path (GPU: secret + create).
 * 2. Modal calls per started runner, counted at the fetch boundary against the local emulator: cold, with warm
 *    caches (the dispatcher's case: 1), for a GPU, and for a runner that was already started.
 *
 * Figures are from this machine and noisy; read them as orders of magnitude.
 */
import { createModalClient } from "../src/sandboxes/direct/client.ts";
import type { FetchLike } from "../src/sandboxes/direct/grpc/exchange.ts";
import { frameMessage, parseFrames } from "../src/sandboxes/direct/grpc/framing.ts";
import {
  decodeSandboxCreateResponse,
  decodeSecretGetOrCreateResponse,
  encodeSandboxCreateRequest,
  encodeSandboxCreateV2Request,
  encodeSecretGetOrCreateRequest,
  type SandboxDefinition,
} from "../src/sandboxes/direct/messages/sandbox-create.ts";
import { SandboxCreated, SecretResponse } from "../src/sandboxes/direct/responses.ts";
import type { RunnerSandboxSpec } from "../src/sandboxes/provider.ts";
import { encodeMessage } from "../test/emulators/modal/codec.ts";
import { modalEmulator } from "../test/emulators/modal/control-client.ts";
import { startModalEmulator } from "../test/emulators/modal/server.ts";

// A JIT config is a base64 blob of about 1.5 KB.
const JIT = Buffer.from("x".repeat(1100)).toString("base64");
const ENV = { ACTIONS_RUNNER_INPUT_JITCONFIG: JIT, RUNNER_ALLOW_RUNASROOT: "1", AOM_JOB_ID: "123456789" };
const TAGS = {
  "aom-runner": "aom-123456789-1",
  "aom-job": "123456789",
  "aom-repo": "octo/hello",
  "aom-pool": "default",
};
const DEFINITION: SandboxDefinition = {
  entrypointArgs: [
    "/bin/sh",
    "-c",
    'cd /home/runner && exec ./run.sh --jitconfig "$ACTIONS_RUNNER_INPUT_JITCONFIG"',
  ],
  imageId: "im-emu0000000000000000001",
  secretIds: [],
  memoryMb: 4096,
  milliCpu: 2000,
  gpu: undefined,
  timeoutSecs: 3600,
  regions: [],
  name: "aom-123456789-1",
};

function measure(label: string, iterations: number, run: () => unknown): number {
  for (let index = 0; index < 2000; index++) run();
  const start = performance.now();
  for (let index = 0; index < iterations; index++) run();
  const micros = ((performance.now() - start) * 1000) / iterations;
  console.log(`  ${label.padEnd(58)} ${micros.toFixed(2).padStart(7)} µs`);
  return micros;
}

function codec(): void {
  const iterations = 50_000;
  const v2Request = encodeSandboxCreateV2Request({
    appId: "ap-emu0000000000000000001",
    definition: DEFINITION,
    tags: TAGS,
    env: ENV,
  });
  const v2Answer = frameMessage(
    encodeMessage("SandboxCreateV2Response", {
      sandbox_id: "sb-01EMU000000000000000000001",
      task_id: "ta-emu0000000000000000001",
      metadata: { app_id: "ap-emu0000000000000000001" },
    }),
  );
  const v1Request = encodeSandboxCreateRequest({
    appId: "ap-emu0000000000000000001",
    definition: { ...DEFINITION, secretIds: ["st-emu0000000000000000001"], gpu: { count: 1, type: "A10G" } },
    tags: TAGS,
  });
  const secretRequest = encodeSecretGetOrCreateRequest({ environmentName: "", envDict: ENV });
  const v1Answer = frameMessage(
    encodeMessage("SandboxCreateResponse", { sandbox_id: "sb-emu0000000000000000001" }),
  );
  const secretAnswer = frameMessage(
    encodeMessage("SecretGetOrCreateResponse", { secret_id: "st-emu0000000000000000001" }),
  );

  console.log(`codec cost per sandbox creation (${iterations} iterations after warm-up)`);
  console.log(
    `  request sizes: SandboxCreateV2 ${v2Request.length} B, SecretGetOrCreate ${secretRequest.length} B, SandboxCreate ${v1Request.length} B`,
  );
  const encodeV2 = measure("SandboxCreateV2: encode request + frame", iterations, () =>
    frameMessage(
      encodeSandboxCreateV2Request({
        appId: "ap-emu0000000000000000001",
        definition: DEFINITION,
        tags: TAGS,
        env: ENV,
      }),
    ),
  );
  const decodeV2 = measure("SandboxCreateV2: unframe + decode + validate response", iterations, () =>
    SandboxCreated.parse(decodeSandboxCreateResponse(parseFrames(v2Answer)[0] ?? new Uint8Array())),
  );
  console.log(
    `  ${"SandboxCreateV2 total (one CPU runner)".padEnd(58)} ${(encodeV2 + decodeV2).toFixed(2).padStart(7)} µs`,
  );
  const gpu = measure("GPU path: SecretGetOrCreate + SandboxCreate, both ways", iterations, () => {
    frameMessage(encodeSecretGetOrCreateRequest({ environmentName: "", envDict: ENV }));
    SecretResponse.parse(decodeSecretGetOrCreateResponse(parseFrames(secretAnswer)[0] ?? new Uint8Array()));
    frameMessage(
      encodeSandboxCreateRequest({
        appId: "ap-emu0000000000000000001",
        definition: {
          ...DEFINITION,
          secretIds: ["st-emu0000000000000000001"],
          gpu: { count: 1, type: "A10G" },
        },
        tags: TAGS,
      }),
    );
    SandboxCreated.parse(decodeSandboxCreateResponse(parseFrames(v1Answer)[0] ?? new Uint8Array()));
  });
  void gpu;
}

async function calls(): Promise<void> {
  const running = await startModalEmulator();
  try {
    const emulator = modalEmulator(running.url, "bench");
    let count = 0;
    const counting: FetchLike = (url, init) => {
      count++;
      return fetch(url, init);
    };
    const options = {
      serverUrl: emulator.url,
      tokenId: "ak-bench0001",
      tokenSecret: "as-bench0001",
      fetch: counting,
    };
    const spec = (appId: string, imageId: string, name: string, gpu?: string): RunnerSandboxSpec => ({
      appId,
      imageId,
      name,
      command: [...DEFINITION.entrypointArgs],
      env: ENV,
      cpu: 2,
      memoryMiB: 4096,
      timeoutSeconds: 3600,
      tags: { ...TAGS, "aom-runner": name },
      ...(gpu === undefined ? {} : { gpu }),
    });
    const counted = async (label: string, run: () => Promise<unknown>) => {
      const before = count;
      await run();
      console.log(`  ${label.padEnd(58)} ${String(count - before).padStart(3)}`);
    };

    console.log("Modal calls per started runner (counted at fetch, against the emulator)");
    const client = createModalClient(options);
    let appId = "";
    let imageId = "";
    await counted("cold client: ensureApp + ensureImage + startRunner", async () => {
      appId = await client.ensureApp("actions-on-modal");
      imageId = await client.ensureImage(appId, "ghcr.io/actions/actions-runner:2.330.0");
      await client.startRunner(spec(appId, imageId, "runner-1"));
    });
    await counted("warm caches (app, image, token): startRunner, CPU", () =>
      client.startRunner(spec(appId, imageId, "runner-2")),
    );
    await counted("warm caches: startRunner, GPU (secret + V1 create)", () =>
      client.startRunner(spec(appId, imageId, "runner-3", "A10G")),
    );
    await counted("warm caches: startRunner again (ALREADY_EXISTS → list)", () =>
      client.startRunner(spec(appId, imageId, "runner-2")),
    );
    const fresh = createModalClient(options);
    await counted("new isolate, ids from the ledger: startRunner, CPU", () =>
      fresh.startRunner(spec(appId, imageId, "runner-4")),
    );
  } finally {
    await running.close();
  }
}

codec();
console.log();
await calls();
