/** Building (or finding) a registry image: ImageGetOrCreate, then ImageJoinStreaming while it builds. */
import { readMessage } from "../protobuf/reader.ts";
import { ProtoWriter } from "../protobuf/writer.ts";
import { decodeGenericResult, type GenericResult } from "./common.ts";

/**
 * ImageGetOrCreateRequest: image=2 → Image{ dockerfile_commands=6 }, app_id=4, builder_version=9.
 * `force_build`=7 stays false (omitted), as the SDK sends it for an image without `forceBuild`.
 */
export function encodeImageGetOrCreateRequest(request: {
  appId: string;
  dockerfileCommands: readonly string[];
  builderVersion: string;
}): Uint8Array {
  return new ProtoWriter()
    .message(2, (image) => image.repeatedString(6, request.dockerfileCommands))
    .string(4, request.appId)
    .string(9, request.builderVersion)
    .finish();
}

/** ImageGetOrCreateResponse: image_id=1, result=2 (absent or status 0 while the build runs). */
export function decodeImageGetOrCreateResponse(bytes: Uint8Array): {
  imageId: string;
  result: GenericResult | undefined;
} {
  let imageId = "";
  let result: GenericResult | undefined;
  readMessage(bytes, (reader, field, wireType) => {
    if (field === 1) imageId = reader.string(wireType);
    else if (field === 2) result = decodeGenericResult(reader.bytes(wireType));
    else return false;
    return true;
  });
  return { imageId, result };
}

/** ImageJoinStreamingRequest: image_id=1, timeout=2 float (seconds of server-side long poll), last_entry_id=3. */
export function encodeImageJoinStreamingRequest(request: {
  imageId: string;
  timeoutSeconds: number;
  lastEntryId: string;
}): Uint8Array {
  return new ProtoWriter()
    .string(1, request.imageId)
    .float(2, request.timeoutSeconds)
    .string(3, request.lastEntryId)
    .finish();
}

/** ImageJoinStreamingResponse (one per stream item): result=1, entry_id=3, eof=4; task_logs=2 skipped. */
export function decodeImageJoinStreamingResponse(bytes: Uint8Array): {
  result: GenericResult | undefined;
  entryId: string;
  eof: boolean;
} {
  let result: GenericResult | undefined;
  let entryId = "";
  let eof = false;
  readMessage(bytes, (reader, field, wireType) => {
    if (field === 1) result = decodeGenericResult(reader.bytes(wireType));
    else if (field === 3) entryId = reader.string(wireType);
    else if (field === 4) eof = reader.bool(wireType);
    else return false;
    return true;
  });
  return { result, entryId, eof };
}
