/**
 * Creating a runner sandbox, the way `modal@0.11.1` does it:
 * - CPU: one SandboxCreateV2 with `env` inline as a `secret_sources` entry (no secret round trip);
 * - GPU: SecretGetOrCreate (EPHEMERAL, `env_dict`) and then SandboxCreate with the secret's id, because the V2
 *   path does not take GPUs.
 * Fields are written in the order the SDK's generated encoder writes them, so our bytes can equal its bytes.
 * Writers that carry the env start at 4 KiB: a JIT config is ~1.5 KiB, and growing a buffer costs more than the encoding itself.
 */
import { readMessage } from "../protobuf/reader.ts";
import { ProtoWriter } from "../protobuf/writer.ts";
import { ObjectCreationType, writeStringMap, writeTags } from "./common.ts";

/** `NetworkAccess.NetworkAccessType.OPEN`: runners must reach GitHub. */
const NETWORK_ACCESS_OPEN = 1;

export interface SandboxDefinition {
  entrypointArgs: readonly string[];
  imageId: string;
  secretIds: readonly string[];
  memoryMb: number;
  milliCpu: number;
  gpu: { count: number; type: string } | undefined;
  timeoutSecs: number;
  /** Where the sandbox may be scheduled; empty for anywhere. */
  regions: readonly string[];
  name: string;
}

/**
 * Sandbox: entrypoint_args=1, image_id=3, secret_ids=4, resources=5 → Resources{ memory_mb=2, milli_cpu=3,
 * gpu_config=4 → GPUConfig{ count=2, gpu_type=4 } }, timeout_secs=7, scheduler_placement=17 →
 * SchedulerPlacement{ regions=4 }, open_ports=20 (PortSpecs, present and empty), network_access=22 →
 * NetworkAccess{ network_access_type=1 }, name=30 (optional string).
 * `gpu_config` is present even without a GPU: the SDK always sends it, empty. `scheduler_placement` is sent only
 * with regions, as the SDK does, so a spec without regions keeps the bytes it had.
 */
function writeSandbox(writer: ProtoWriter, definition: SandboxDefinition): void {
  writer
    .repeatedString(1, definition.entrypointArgs)
    .string(3, definition.imageId)
    .repeatedString(4, definition.secretIds)
    .message(5, (resources) => {
      const gpu = definition.gpu;
      resources
        .uint32(2, definition.memoryMb)
        .uint32(3, definition.milliCpu)
        .message(4, (gpuConfig) => {
          if (gpu !== undefined) gpuConfig.uint32(2, gpu.count).string(4, gpu.type);
        });
    })
    .uint32(7, definition.timeoutSecs);
  if (definition.regions.length > 0) {
    writer.message(17, (placement) => placement.repeatedString(4, definition.regions));
  }
  writer
    .message(20, () => {})
    .message(22, (network) => network.int32(1, NETWORK_ACCESS_OPEN))
    .optionalString(30, definition.name);
}

/**
 * SandboxCreateV2Request: app_id=1, definition=2, tags=4, secret_sources=6 → SecretSource{ env=2 → StringMap }.
 * An empty `env` sends no secret source, like the SDK.
 */
export function encodeSandboxCreateV2Request(request: {
  appId: string;
  definition: SandboxDefinition;
  tags: Readonly<Record<string, string>>;
  env: Readonly<Record<string, string>>;
}): Uint8Array {
  const writer = new ProtoWriter(4096)
    .string(1, request.appId)
    .message(2, (definition) => writeSandbox(definition, request.definition));
  writeTags(writer, 4, request.tags);
  if (Object.keys(request.env).length > 0) {
    writer.message(6, (source) => source.message(2, (env) => writeStringMap(env, request.env)));
  }
  return writer.finish();
}

/** SandboxCreateRequest (the V1 call, used for GPUs): app_id=1, definition=2, tags=4. */
export function encodeSandboxCreateRequest(request: {
  appId: string;
  definition: SandboxDefinition;
  tags: Readonly<Record<string, string>>;
}): Uint8Array {
  const writer = new ProtoWriter(512)
    .string(1, request.appId)
    .message(2, (definition) => writeSandbox(definition, request.definition));
  writeTags(writer, 4, request.tags);
  return writer.finish();
}

/** SandboxCreateResponse: sandbox_id=1. SandboxCreateV2Response: sandbox_id=1, task_id=3. */
export function decodeSandboxCreateResponse(bytes: Uint8Array): { sandboxId: string; taskId: string } {
  let sandboxId = "";
  let taskId = "";
  readMessage(bytes, (reader, field, wireType) => {
    if (field === 1) sandboxId = reader.string(wireType);
    else if (field === 3) taskId = reader.string(wireType);
    else return false;
    return true;
  });
  return { sandboxId, taskId };
}

/** SecretGetOrCreateRequest: environment_name=3, object_creation_type=4 (EPHEMERAL), env_dict=5 map. */
export function encodeSecretGetOrCreateRequest(request: {
  environmentName: string;
  envDict: Readonly<Record<string, string>>;
}): Uint8Array {
  return new ProtoWriter(4096)
    .string(3, request.environmentName)
    .int32(4, ObjectCreationType.EPHEMERAL)
    .stringMap(5, request.envDict)
    .finish();
}

/** SecretGetOrCreateResponse: secret_id=1. */
export function decodeSecretGetOrCreateResponse(bytes: Uint8Array): { secretId: string } {
  let secretId = "";
  readMessage(bytes, (reader, field, wireType) => {
    if (field !== 1) return false;
    secretId = reader.string(wireType);
    return true;
  });
  return { secretId };
}
