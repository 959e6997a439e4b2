/** Building (or finding) a registry image: ImageGetOrCreate, then ImageJoinStreaming while it builds. */
import { decodeGenericResult, type GenericResult } from "./common.ts";
import {
  BinaryWriter,
  read,
  readMessage,
  writeFloat,
  writeMessage,
  writeRepeatedString,
  writeString,
} from "./wire.ts";

/**
 * ImageGetOrCreateRequest: image=2 → Image{ dockerfile_commands=6 }, app_id=4, builder_version=9.
 * `force_build`=7 stays false (omitted), as the SDK sends it for an image without `forceBuild`.
 */
export function encodeImageGetOrCreateRequest(request: {
  appId: string;
  dockerfileCommands: readonly string[];
  builderVersion: string;
}): Uint8Array {
  const writer = new BinaryWriter();
  writeMessage(writer, 2, (image) => writeRepeatedString(image, 6, request.dockerfileCommands));
  writeString(writer, 4, request.appId);
  writeString(writer, 9, request.builderVersion);
  return writer.finish();
}

/** ImageGetOrCreateResponse: image_id=1, result=2 (absent or status 0 while the build runs). */
export function decodeImageGetOrCreateResponse(bytes: Uint8Array): {
  imageId: string;
  result: GenericResult | undefined;
} {
  let imageId = "";
  let result: GenericResult | undefined;
  readMessage(bytes, {
    1: read.string((value) => (imageId = value)),
    2: read.bytes((value) => (result = decodeGenericResult(value))),
  });
  return { imageId, result };
}

/** ImageJoinStreamingRequest: image_id=1, timeout=2 float (seconds of server-side long poll), last_entry_id=3. */
export function encodeImageJoinStreamingRequest(request: {
  imageId: string;
  timeoutSeconds: number;
  lastEntryId: string;
}): Uint8Array {
  const writer = new BinaryWriter();
  writeString(writer, 1, request.imageId);
  writeFloat(writer, 2, request.timeoutSeconds);
  writeString(writer, 3, request.lastEntryId);
  return writer.finish();
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
  readMessage(bytes, {
    1: read.bytes((value) => (result = decodeGenericResult(value))),
    3: read.string((value) => (entryId = value)),
    4: read.bool((value) => (eof = value)),
  });
  return { result, entryId, eof };
}
