/** After creation: list (by app and tags), terminate, and wait (poll for a result). V1 and V2 share messages. */
import { readMessage } from "../protobuf/reader.ts";
import { ProtoWriter } from "../protobuf/writer.ts";
import { decodeGenericResult, decodeTag, type GenericResult, writeTags } from "./common.ts";

/**
 * SandboxListRequest: app_id=1, before_timestamp=2 double (page cursor: created_at of the last item seen),
 * include_finished=4 (false, omitted), tags=5.
 */
export function encodeSandboxListRequest(request: {
  appId: string;
  beforeTimestamp: number;
  tags: Readonly<Record<string, string>>;
}): Uint8Array {
  const writer = new ProtoWriter(128).string(1, request.appId).double(2, request.beforeTimestamp);
  writeTags(writer, 5, request.tags);
  return writer.finish();
}

export interface SandboxInfo {
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  appId: string;
  tags: Record<string, string>;
  name: string;
}

/** SandboxInfo: id=1, created_at=3 double, app_id=5, tags=6, name=7; task_info, resources, … are skipped. */
function decodeSandboxInfo(bytes: Uint8Array): SandboxInfo {
  const info: SandboxInfo = { id: "", createdAt: 0, appId: "", tags: {}, name: "" };
  readMessage(bytes, (reader, field, wireType) => {
    if (field === 1) info.id = reader.string(wireType);
    else if (field === 3) info.createdAt = reader.double(wireType);
    else if (field === 5) info.appId = reader.string(wireType);
    else if (field === 6) {
      const [name, value] = decodeTag(reader.bytes(wireType));
      info.tags[name] = value;
    } else if (field === 7) info.name = reader.string(wireType);
    else return false;
    return true;
  });
  return info;
}

/** SandboxListResponse: sandboxes=1 repeated SandboxInfo. */
export function decodeSandboxListResponse(bytes: Uint8Array): { sandboxes: SandboxInfo[] } {
  const sandboxes: SandboxInfo[] = [];
  readMessage(bytes, (reader, field, wireType) => {
    if (field !== 1) return false;
    sandboxes.push(decodeSandboxInfo(reader.bytes(wireType)));
    return true;
  });
  return { sandboxes };
}

/** SandboxTerminateRequest: sandbox_id=1. */
export function encodeSandboxTerminateRequest(request: { sandboxId: string }): Uint8Array {
  return new ProtoWriter().string(1, request.sandboxId).finish();
}

/** SandboxTerminateResponse: existing_result=1 (set when the sandbox had already finished). */
export function decodeSandboxTerminateResponse(bytes: Uint8Array): {
  existingResult: GenericResult | undefined;
} {
  let existingResult: GenericResult | undefined;
  readMessage(bytes, (reader, field, wireType) => {
    if (field !== 1) return false;
    existingResult = decodeGenericResult(reader.bytes(wireType));
    return true;
  });
  return { existingResult };
}

/** SandboxWaitRequest: sandbox_id=1, timeout=2 float (seconds; 0 = answer at once). */
export function encodeSandboxWaitRequest(request: { sandboxId: string; timeoutSeconds: number }): Uint8Array {
  return new ProtoWriter().string(1, request.sandboxId).float(2, request.timeoutSeconds).finish();
}

/** SandboxWaitResponse: result=1 (absent while the sandbox runs). */
export function decodeSandboxWaitResponse(bytes: Uint8Array): { result: GenericResult | undefined } {
  let result: GenericResult | undefined;
  readMessage(bytes, (reader, field, wireType) => {
    if (field !== 1) return false;
    result = decodeGenericResult(reader.bytes(wireType));
    return true;
  });
  return { result };
}
