/**
 * Creating a runner sandbox, the way `modal@0.11.1` does it:
 * - CPU: one SandboxCreateV2 with `env` inline as a `secret_sources` entry (no secret round trip);
 * - GPU: SecretGetOrCreate (EPHEMERAL, `env_dict`) and then SandboxCreate with the secret's id, because the V2
 *   path does not take GPUs.
 * Fields are written in the order the SDK's generated encoder writes them, so our bytes can equal its bytes.
 */
import { ObjectCreationType, writeStringMap, writeTags } from "./common.ts";
import {
  BinaryWriter,
  read,
  readMessage,
  writeInt32,
  writeStringMap as writeMapField,
  writeMessage,
  writeOptionalString,
  writeRepeatedString,
  writeString,
  writeUint32,
} from "./wire.ts";

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
function writeSandbox(writer: BinaryWriter, definition: SandboxDefinition): void {
  writeRepeatedString(writer, 1, definition.entrypointArgs);
  writeString(writer, 3, definition.imageId);
  writeRepeatedString(writer, 4, definition.secretIds);
  writeMessage(writer, 5, (resources) => {
    const gpu = definition.gpu;
    writeUint32(resources, 2, definition.memoryMb);
    writeUint32(resources, 3, definition.milliCpu);
    writeMessage(resources, 4, (gpuConfig) => {
      if (gpu === undefined) return;
      writeUint32(gpuConfig, 2, gpu.count);
      writeString(gpuConfig, 4, gpu.type);
    });
  });
  writeUint32(writer, 7, definition.timeoutSecs);
  if (definition.regions.length > 0) {
    writeMessage(writer, 17, (placement) => writeRepeatedString(placement, 4, definition.regions));
  }
  writeMessage(writer, 20, () => {});
  writeMessage(writer, 22, (network) => writeInt32(network, 1, NETWORK_ACCESS_OPEN));
  writeOptionalString(writer, 30, definition.name);
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
  const writer = new BinaryWriter();
  writeString(writer, 1, request.appId);
  writeMessage(writer, 2, (definition) => writeSandbox(definition, request.definition));
  writeTags(writer, 4, request.tags);
  if (Object.keys(request.env).length > 0) {
    writeMessage(writer, 6, (source) => writeMessage(source, 2, (env) => writeStringMap(env, request.env)));
  }
  return writer.finish();
}

/** SandboxCreateRequest (the V1 call, used for GPUs): app_id=1, definition=2, tags=4. */
export function encodeSandboxCreateRequest(request: {
  appId: string;
  definition: SandboxDefinition;
  tags: Readonly<Record<string, string>>;
}): Uint8Array {
  const writer = new BinaryWriter();
  writeString(writer, 1, request.appId);
  writeMessage(writer, 2, (definition) => writeSandbox(definition, request.definition));
  writeTags(writer, 4, request.tags);
  return writer.finish();
}

/** SandboxCreateResponse: sandbox_id=1. SandboxCreateV2Response: sandbox_id=1, task_id=3. */
export function decodeSandboxCreateResponse(bytes: Uint8Array): { sandboxId: string; taskId: string } {
  let sandboxId = "";
  let taskId = "";
  readMessage(bytes, {
    1: read.string((value) => (sandboxId = value)),
    3: read.string((value) => (taskId = value)),
  });
  return { sandboxId, taskId };
}

/** SecretGetOrCreateRequest: environment_name=3, object_creation_type=4 (EPHEMERAL), env_dict=5 map. */
export function encodeSecretGetOrCreateRequest(request: {
  environmentName: string;
  envDict: Readonly<Record<string, string>>;
}): Uint8Array {
  const writer = new BinaryWriter();
  writeString(writer, 3, request.environmentName);
  writeInt32(writer, 4, ObjectCreationType.EPHEMERAL);
  writeMapField(writer, 5, request.envDict);
  return writer.finish();
}

/** SecretGetOrCreateResponse: secret_id=1. */
export function decodeSecretGetOrCreateResponse(bytes: Uint8Array): { secretId: string } {
  let secretId = "";
  readMessage(bytes, { 1: read.string((value) => (secretId = value)) });
  return { secretId };
}
