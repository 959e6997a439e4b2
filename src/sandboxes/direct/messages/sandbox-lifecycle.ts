/** After creation: list (by app and tags), and terminate. V1 and V2 share messages. */
import { decodeGenericResult, decodeTag, type GenericResult, writeTags } from "./common.ts";
import { BinaryWriter, read, readMessage, writeDouble, writeString } from "./wire.ts";

/**
 * SandboxListRequest: app_id=1, before_timestamp=2 double (page cursor: created_at of the last item seen),
 * include_finished=4 (false, omitted), tags=5.
 */
export function encodeSandboxListRequest(request: {
  appId: string;
  beforeTimestamp: number;
  tags: Readonly<Record<string, string>>;
}): Uint8Array {
  const writer = new BinaryWriter();
  writeString(writer, 1, request.appId);
  writeDouble(writer, 2, request.beforeTimestamp);
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
  readMessage(bytes, {
    1: read.string((value) => (info.id = value)),
    3: read.double((value) => (info.createdAt = value)),
    5: read.string((value) => (info.appId = value)),
    6: read.bytes((tag) => {
      const [name, value] = decodeTag(tag);
      info.tags[name] = value;
    }),
    7: read.string((value) => (info.name = value)),
  });
  return info;
}

/** SandboxListResponse: sandboxes=1 repeated SandboxInfo. */
export function decodeSandboxListResponse(bytes: Uint8Array): { sandboxes: SandboxInfo[] } {
  const sandboxes: SandboxInfo[] = [];
  readMessage(bytes, { 1: read.bytes((info) => sandboxes.push(decodeSandboxInfo(info))) });
  return { sandboxes };
}

/** SandboxTerminateRequest: sandbox_id=1. */
export function encodeSandboxTerminateRequest(request: { sandboxId: string }): Uint8Array {
  const writer = new BinaryWriter();
  writeString(writer, 1, request.sandboxId);
  return writer.finish();
}

/** SandboxTerminateResponse: existing_result=1 (set when the sandbox had already finished). */
export function decodeSandboxTerminateResponse(bytes: Uint8Array): {
  existingResult: GenericResult | undefined;
} {
  let existingResult: GenericResult | undefined;
  readMessage(bytes, { 1: read.bytes((value) => (existingResult = decodeGenericResult(value))) });
  return { existingResult };
}
