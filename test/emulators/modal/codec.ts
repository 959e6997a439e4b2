/**
 * Schema-driven protobuf codec for the emulator and the conformance test (runtime-neutral: no node: imports).
 * It reuses the low-level reader/writer of src/modal/protobuf (tested on their own with hand-made bytes) but
 * none of our message code: field names and numbers come from ./schema.ts, transcribed from the SDK.
 *
 * Decoded messages are JSON-safe: 64-bit integers become decimal strings, bytes and opaque messages hex strings.
 * A field that is not in the schema, or arrives with another wire type than the schema says, is kept under
 * `#<number>:<wire type>` so that a comparison shows it instead of dropping it.
 */
import { ProtoReader } from "../../../src/modal/protobuf/reader.ts";
import { ProtoWriter, WireType } from "../../../src/modal/protobuf/writer.ts";
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

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

function wireTypeOf(type: string): number {
  switch (type) {
    case "bool":
    case "int32":
    case "uint32":
    case "int64":
    case "uint64":
      return WireType.VARINT;
    case "double":
      return WireType.I64;
    case "float":
      return WireType.I32;
    default:
      return WireType.LEN;
  }
}

function readScalar(reader: ProtoReader, type: string, wireType: number): Decoded {
  switch (type) {
    case "string":
      return reader.string(wireType);
    case "bytes":
      return hex(reader.bytes(wireType));
    case "bool":
      return reader.bool(wireType);
    case "int32":
      return reader.int32(wireType);
    case "uint32":
      return reader.uint32(wireType);
    case "int64":
      return reader.int64(wireType).toString();
    case "uint64":
      return reader.uint64(wireType).toString();
    case "double":
      return reader.double(wireType);
    case "float":
      return reader.float(wireType);
    default:
      return decodeMessage(type, reader.bytes(wireType));
  }
}

function readUnknown(reader: ProtoReader, field: number, wireType: number): Decoded {
  switch (wireType) {
    case WireType.VARINT:
      return reader.uint64(wireType).toString();
    case WireType.I64:
      return reader.double(wireType);
    case WireType.LEN:
      return hex(reader.bytes(wireType));
    case WireType.I32:
      return reader.float(wireType);
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
  const reader = new ProtoReader(bytes);
  while (!reader.done) {
    const { field, wireType } = reader.key();
    const fieldSpec: FieldSpec | undefined = fields[field];
    const mapValue = fieldSpec?.[1].startsWith("map<") ? fieldSpec[1].slice(4, -1) : undefined;
    if (fieldSpec === undefined || wireType !== wireTypeOf(mapValue === undefined ? fieldSpec[1] : "map")) {
      push(message, `#${field}:${wireType}`, readUnknown(reader, field, wireType));
      continue;
    }
    const [name, type, label] = fieldSpec;
    if (mapValue !== undefined) {
      const entry = decodeMapEntry(reader.bytes(wireType), mapValue);
      const map = message[name];
      const target: DecodedMessage = typeof map === "object" && !Array.isArray(map) ? map : {};
      target[entry.key] = entry.value;
      message[name] = target;
    } else if (label === "repeated") {
      push(message, name, readScalar(reader, type, wireType));
    } else {
      message[name] = readScalar(reader, type, wireType);
    }
  }
  return message;
}

function decodeMapEntry(bytes: Uint8Array, valueType: string): { key: string; value: Decoded } {
  const reader = new ProtoReader(bytes);
  let key = "";
  let value: Decoded = defaultOf(valueType);
  while (!reader.done) {
    const { field, wireType } = reader.key();
    if (field === 1) key = reader.string(wireType);
    else if (field === 2) value = readScalar(reader, valueType, wireType);
    else reader.skip(wireType, field);
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
  const writer = new ProtoWriter();
  writeFields(writer, type, message);
  return writer.finish();
}

function writeFields(writer: ProtoWriter, type: string, message: EncodeMessage): void {
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
        writer.message(number, (entry) => {
          entry.string(1, key);
          writeValue(entry, 2, valueType, entryValue, false);
        });
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

/** `present`: write even the default value (repeated items, `optional` fields). */
function writeValue(
  writer: ProtoWriter,
  field: number,
  type: string,
  value: EncodeValue,
  present: boolean,
): void {
  switch (type) {
    case "string":
      if (typeof value !== "string") throw new Error(`field ${field} must be a string`);
      if (present) writer.optionalString(field, value);
      else writer.string(field, value);
      return;
    case "bytes":
      if (!(value instanceof Uint8Array)) throw new Error(`field ${field} must be bytes`);
      writer.bytes(field, value);
      return;
    case "bool":
      writer.bool(field, value === true);
      return;
    case "int32":
      writer.int32(field, Number(value));
      return;
    case "uint32":
      if (present) writer.optionalUint32(field, Number(value));
      else writer.uint32(field, Number(value));
      return;
    case "int64":
      writer.int64(field, BigInt(typeof value === "bigint" || typeof value === "number" ? value : 0));
      return;
    case "uint64":
      writer.uint64(field, BigInt(typeof value === "bigint" || typeof value === "number" ? value : 0));
      return;
    case "double":
      writer.double(field, Number(value));
      return;
    case "float":
      writer.float(field, Number(value));
      return;
    default:
      writer.message(field, (child) => writeFields(child, type, asMessage(value)));
  }
}
