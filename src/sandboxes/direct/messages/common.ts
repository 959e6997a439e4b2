/**
 * Small messages shared by several calls. Field numbers are the ones in the official SDK's generated code
 * (`modal@0.11.1`, `dist/index.js`), which the conformance test holds us to.
 */
import {
  type BinaryWriter,
  ProtoDecodeError,
  read,
  readMessage,
  writeStringMap as writeMapField,
  writeMessage,
  writeString,
} from "./wire.ts";

/** `GenericResult.status` */
export const GenericStatus = {
  UNSPECIFIED: 0,
  SUCCESS: 1,
  FAILURE: 2,
  TERMINATED: 3,
  TIMEOUT: 4,
  INIT_FAILURE: 5,
  INTERNAL_FAILURE: 6,
  IDLE_TIMEOUT: 7,
  MEMORY_MANAGER_EVICTION: 8,
} as const;

/** `ObjectCreationType` */
export const ObjectCreationType = { UNSPECIFIED: 0, CREATE_IF_MISSING: 1, EPHEMERAL: 5 } as const;

export interface GenericResult {
  status: number;
  exception: string;
  exitcode: number;
}

/** GenericResult: status=1 int32, exception=2 string, exitcode=3 int32. */
export function decodeGenericResult(bytes: Uint8Array): GenericResult {
  const result: GenericResult = { status: 0, exception: "", exitcode: 0 };
  readMessage(bytes, {
    1: read.int32((value) => (result.status = value)),
    2: read.string((value) => (result.exception = value)),
    3: read.int32((value) => (result.exitcode = value)),
  });
  return result;
}

/** SandboxTag: tag_name=1, tag_value=2; repeated in requests as a list in `Object.entries` order. */
export function writeTags(writer: BinaryWriter, field: number, tags: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(tags)) {
    writeMessage(writer, field, (tag) => {
      writeString(tag, 1, name);
      writeString(tag, 2, value);
    });
  }
}

export function decodeTag(bytes: Uint8Array): [string, string] {
  let name = "";
  let value = "";
  readMessage(bytes, {
    1: read.string((text) => (name = text)),
    2: read.string((text) => (value = text)),
  });
  if (name === "") throw new ProtoDecodeError("SandboxTag without tag_name");
  return [name, value];
}

/** StringMap: contents=1 map<string, string>. */
export function writeStringMap(writer: BinaryWriter, contents: Readonly<Record<string, string>>): void {
  writeMapField(writer, 1, contents);
}
