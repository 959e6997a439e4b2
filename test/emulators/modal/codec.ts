/**
 * Schema-driven protobuf codec for the emulator and the conformance test (runtime-neutral: no node: imports).
 * It uses @bufbuild/protobuf's wire reader/writer but none of our message code: field names and numbers come
 * from ./schema.ts, transcribed from the SDK.
 *
 * Decoded messages are JSON-safe: 64-bit integers become decimal strings, bytes and opaque messages hex strings.
 * A field that is not in the schema, or arrives with another wire type than the schema says, is kept under
 * `#<number>:<wire type>` so that a comparison shows it instead of dropping it.
 */
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type FieldSpec, MESSAGES, type MessageSpec, SCALARS } from "./schema.ts";

export type Decoded = string | number | boolean | DecodedMessage | Decoded[];
export interface DecodedMessage {
  [field: string]: Decoded;
}

export type EncodeValue =
  | string
  | number
  | boolean
  | bigint
  | Uint8Array
  | EncodeMessage
  | readonly EncodeValue[]
  | undefined;
export interface EncodeMessage {
  readonly [field: string]: EncodeValue;
}

function spec(type: string): MessageSpec {
  const message = MESSAGES[type];
  if (message === undefined) throw new Error(`schema has no message ${type}`);
  return message;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const reader = (bytes: Uint8Array) => new BinaryReader(bytes, (data) => utf8.decode(data));

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

function wireTypeOf(type: string): number {
  switch (type) {
    case "bool":
    case "int32":
    case "uint32":
    case "int64":
    case "uint64":
      return WireType.Varint;
    case "double":
      return WireType.Bit64;
    case "float":
      return WireType.Bit32;
    default:
      return WireType.LengthDelimited;
  }
}

/** Reads a value whose wire type the caller has checked against the schema. */
function readScalar(reader: BinaryReader, type: string): Decoded {
  switch (type) {
    case "string":
      return reader.string();
    case "bytes":
      return hex(reader.bytes());
    case "bool":
      return reader.bool();
    case "int32":
      return reader.int32();
    case "uint32":
      return reader.uint32();
    case "int64":
      return reader.int64().toString();
    case "uint64":
      return reader.uint64().toString();
    case "double":
      return reader.double();
    case "float":
      return reader.float();
    default:
      return decodeMessage(type, reader.bytes());
  }
}

function readUnknown(reader: BinaryReader, field: number, wireType: WireType): Decoded {
  switch (wireType) {
    case WireType.Varint:
      return reader.uint64().toString();
    case WireType.Bit64:
      return reader.double();
    case WireType.LengthDelimited:
      return hex(reader.bytes());
    case WireType.Bit32:
      return reader.float();
    default:
      reader.skip(wireType, field);
      return "(group)";
  }
}

function push(message: DecodedMessage, key: string, value: Decoded): void {
  const existing = message[key];
  if (Array.isArray(existing)) existing.push(value);
  else message[key] = [value];
}

export function decodeMessage(type: string, bytes: Uint8Array): DecodedMessage {
  const fields = spec(type);
  const message: DecodedMessage = {};
  const input = reader(bytes);
  while (input.pos < input.len) {
    const [field, wireType] = input.tag();
    const fieldSpec: FieldSpec | undefined = fields[field];
    const mapValue = fieldSpec?.[1].startsWith("map<") ? fieldSpec[1].slice(4, -1) : undefined;
    if (fieldSpec === undefined || wireType !== wireTypeOf(mapValue === undefined ? fieldSpec[1] : "map")) {
      push(message, `#${field}:${wireType}`, readUnknown(input, field, wireType));
      continue;
    }
    const [name, type, label] = fieldSpec;
    if (mapValue !== undefined) {
      const entry = decodeMapEntry(input.bytes(), mapValue);
      const map = message[name];
      const target: DecodedMessage = typeof map === "object" && !Array.isArray(map) ? map : {};
      target[entry.key] = entry.value;
      message[name] = target;
    } else if (label === "repeated") {
      push(message, name, readScalar(input, type));
    } else {
      message[name] = readScalar(input, type);
    }
  }
  if (input.pos > input.len) throw new Error(`${type} ends in the middle of a field`);
  return message;
}

function decodeMapEntry(bytes: Uint8Array, valueType: string): { key: string; value: Decoded } {
  const input = reader(bytes);
  let key = "";
  let value: Decoded = defaultOf(valueType);
  while (input.pos < input.len) {
    const [field, wireType] = input.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) key = input.string();
    else if (field === 2 && wireType === wireTypeOf(valueType)) value = readScalar(input, valueType);
    else input.skip(wireType, field);
  }
  return { key, value };
}

function defaultOf(type: string): Decoded {
  if (type === "string" || type === "bytes") return "";
  if (type === "bool") return false;
  if (SCALARS.has(type)) return type.endsWith("64") && type !== "double" ? "0" : 0;
  return {};
}

// ---- encoding (the emulator's responses) ------------------------------------------------------------------------

export function encodeMessage(type: string, message: EncodeMessage): Uint8Array {
  const writer = new BinaryWriter();
  writeFields(writer, type, message);
  return writer.finish();
}

function writeFields(writer: BinaryWriter, type: string, message: EncodeMessage): void {
  const fields = spec(type);
  const byName = new Map(
    Object.entries(fields).map(([number, field]) => [field[0], [Number(number), field] as const]),
  );
  for (const [name, value] of Object.entries(message)) {
    if (value === undefined) continue;
    const found = byName.get(name);
    if (found === undefined) throw new Error(`${type} has no field ${name}`);
    const [number, [, fieldType, label]] = found;
    if (fieldType.startsWith("map<")) {
      const valueType = fieldType.slice(4, -1);
      for (const [key, entryValue] of Object.entries(asMessage(value))) {
        writer.tag(number, WireType.LengthDelimited).fork();
        writeValue(writer, 1, "string", key, false);
        writeValue(writer, 2, valueType, entryValue, false);
        writer.join();
      }
    } else if (label === "repeated") {
      if (!Array.isArray(value)) throw new Error(`${type}.${name} must be an array`);
      for (const item of value) writeValue(writer, number, fieldType, item, true);
    } else {
      writeValue(writer, number, fieldType, value, label === "optional");
    }
  }
}

const isList = (value: EncodeValue): value is readonly EncodeValue[] => Array.isArray(value);

function asMessage(value: EncodeValue): EncodeMessage {
  if (typeof value !== "object" || isList(value) || value instanceof Uint8Array)
    throw new Error("expected an object");
  return value;
}

/** `present`: write even the default value (repeated items, `optional` fields); proto3 defaults are skipped. */
function writeValue(
  writer: BinaryWriter,
  field: number,
  type: string,
  value: EncodeValue,
  present: boolean,
): void {
  switch (type) {
    case "string":
      if (typeof value !== "string") throw new Error(`field ${field} must be a string`);
      if (present || value !== "") writer.tag(field, WireType.LengthDelimited).string(value);
      return;
    case "bytes":
      if (!(value instanceof Uint8Array)) throw new Error(`field ${field} must be bytes`);
      if (value.length > 0) writer.tag(field, WireType.LengthDelimited).bytes(value);
      return;
    case "bool":
      if (value === true) writer.tag(field, WireType.Varint).bool(true);
      return;
    case "int32":
      if (Number(value) !== 0) writer.tag(field, WireType.Varint).int32(Number(value));
      return;
    case "uint32":
      if (present || Number(value) !== 0) writer.tag(field, WireType.Varint).uint32(Number(value));
      return;
    case "int64":
    case "uint64": {
      const big = BigInt(typeof value === "bigint" || typeof value === "number" ? value : 0);
      if (big === 0n) return;
      writer.tag(field, WireType.Varint);
      if (type === "int64") writer.int64(big);
      else writer.uint64(big);
      return;
    }
    case "double":
      if (Number(value) !== 0) writer.tag(field, WireType.Bit64).double(Number(value));
      return;
    case "float":
      if (Number(value) !== 0) writer.tag(field, WireType.Bit32).float(Number(value));
      return;
    default:
      writer.tag(field, WireType.LengthDelimited).fork();
      writeFields(writer, type, asMessage(value));
      writer.join();
  }
}
