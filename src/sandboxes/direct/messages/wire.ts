/**
 * The wire layer under our message codecs: @bufbuild/protobuf's `BinaryReader` and `BinaryWriter`, without
 * generated code (we use only a handful of Modal's messages, each encoded and decoded by hand in this folder).
 *
 * Writing follows proto3 field semantics, so encoders read like the .proto file: scalars with implicit presence
 * are skipped when they hold the default value, as the SDK's generated encoder does; `optional…` and `message`
 * fields are written whenever they are defined, even when empty, because presence itself carries meaning.
 *
 * Reading is strict where leniency would hide a broken response: a known field with the wrong wire type, a
 * malformed varint, tag or length, or invalid UTF-8 all throw `ProtoDecodeError`, which the RPC layer turns into
 * a typed error naming the method. Fields a decoder does not list are skipped, so Modal can add fields freely.
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export { BinaryWriter, WireType };

export class ProtoDecodeError extends Error {
  override readonly name = "ProtoDecodeError";
}

// ---- writing ----------------------------------------------------------------------------------------------------

export function writeString(writer: BinaryWriter, field: number, value: string): void {
  if (value !== "") writer.tag(field, WireType.LengthDelimited).string(value);
}

/** An `optional string` (or a repeated item): written when defined, even when empty. */
export function writeOptionalString(writer: BinaryWriter, field: number, value: string | undefined): void {
  if (value !== undefined) writer.tag(field, WireType.LengthDelimited).string(value);
}

export function writeRepeatedString(writer: BinaryWriter, field: number, values: readonly string[]): void {
  for (const value of values) writer.tag(field, WireType.LengthDelimited).string(value);
}

export function writeUint32(writer: BinaryWriter, field: number, value: number): void {
  if (value !== 0) writer.tag(field, WireType.Varint).uint32(value);
}

/** `int32` and enums (negative values take ten bytes, sign-extended as the spec requires). */
export function writeInt32(writer: BinaryWriter, field: number, value: number): void {
  if (value !== 0) writer.tag(field, WireType.Varint).int32(value);
}

export function writeBool(writer: BinaryWriter, field: number, value: boolean): void {
  if (value) writer.tag(field, WireType.Varint).bool(true);
}

/** Zero (and -0, as the SDK's encoder does) is the default and is skipped. */
export function writeDouble(writer: BinaryWriter, field: number, value: number): void {
  if (value !== 0) writer.tag(field, WireType.Bit64).double(value);
}

export function writeFloat(writer: BinaryWriter, field: number, value: number): void {
  if (value !== 0) writer.tag(field, WireType.Bit32).float(value);
}

/** A sub-message: written whenever `encode` is given, even if it writes nothing (presence is meaningful). */
export function writeMessage(
  writer: BinaryWriter,
  field: number,
  encode: ((writer: BinaryWriter) => void) | undefined,
): void {
  if (encode === undefined) return;
  writer.tag(field, WireType.LengthDelimited).fork();
  encode(writer);
  writer.join();
}

/** `map<string, string>`: one entry message per key, in insertion order (what `Object.entries` gives the SDK). */
export function writeStringMap(
  writer: BinaryWriter,
  field: number,
  map: Readonly<Record<string, string>>,
): void {
  for (const [key, value] of Object.entries(map)) {
    writeMessage(writer, field, (entry) => {
      writeString(entry, 1, key);
      writeString(entry, 2, value);
    });
  }
}

// ---- reading ----------------------------------------------------------------------------------------------------

// ignoreBOM keeps a leading U+FEFF: it is part of the string, as in every protobuf runtime.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtoDecodeError("string field is not valid UTF-8");
  }
}

/** A field a decoder knows: the wire type its schema gives it, and what to do with the value. */
export type FieldReader = readonly [wireType: WireType, read: (reader: BinaryReader) => void];

/**
 * Walks every field of a message in wire order, handing the known ones to their readers and skipping the rest
 * (groups included). Any malformation ends in `ProtoDecodeError`.
 */
export function readMessage(bytes: Uint8Array, fields: Readonly<Record<number, FieldReader>>): void {
  try {
    const reader = new BinaryReader(bytes, decodeUtf8);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      const known = fields[field];
      if (known === undefined) {
        reader.skip(wireType, field);
        continue;
      }
      if (wireType !== known[0]) {
        throw new ProtoDecodeError(`wire type ${wireType} where ${known[0]} was expected for field ${field}`);
      }
      known[1](reader);
      if (reader.pos > reader.len) throw new ProtoDecodeError("message ends in the middle of a field");
    }
  } catch (error) {
    if (error instanceof ProtoDecodeError) throw error;
    throw new ProtoDecodeError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** Reader shorthands for the value types our decoders use. */
export const read = {
  string: (set: (value: string) => void): FieldReader => [WireType.LengthDelimited, (r) => set(r.string())],
  bytes: (set: (value: Uint8Array) => void): FieldReader => [WireType.LengthDelimited, (r) => set(r.bytes())],
  int32: (set: (value: number) => void): FieldReader => [WireType.Varint, (r) => set(r.int32())],
  bool: (set: (value: boolean) => void): FieldReader => [WireType.Varint, (r) => set(r.bool())],
  double: (set: (value: number) => void): FieldReader => [WireType.Bit64, (r) => set(r.double())],
  float: (set: (value: number) => void): FieldReader => [WireType.Bit32, (r) => set(r.float())],
};
