// Our message codecs on @bufbuild/protobuf's wire layer, in workerd: the proto3 field helpers, strict reading of
// malformed answers, and a few messages. Expected bytes are worked out by hand from the protobuf encoding spec
// (key = field << 3 | wire type; varints little-endian base 128).
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import {
  decodeAppGetOrCreateResponse,
  decodeEnvironmentGetOrCreateResponse,
  encodeAppGetOrCreateRequest,
} from "../../../src/sandboxes/direct/messages/app.ts";
import {
  decodeImageJoinStreamingResponse,
  encodeImageJoinStreamingRequest,
} from "../../../src/sandboxes/direct/messages/image.ts";
import { encodeSandboxCreateV2Request } from "../../../src/sandboxes/direct/messages/sandbox-create.ts";
import { decodeSandboxListResponse } from "../../../src/sandboxes/direct/messages/sandbox-lifecycle.ts";
import {
  ProtoDecodeError,
  read,
  readMessage,
  writeBool,
  writeDouble,
  writeInt32,
  writeMessage,
  writeOptionalString,
  writeString,
  writeStringMap,
  writeUint32,
} from "../../../src/sandboxes/direct/messages/wire.ts";

const { Varint: VARINT, Bit64: I64, LengthDelimited: LEN, Bit32: I32 } = WireType;
const bytes = (...values: number[]) => new Uint8Array(values);
const hex = (data: Uint8Array) => Array.from(data, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
const encode = (write: (writer: BinaryWriter) => void) => {
  const writer = new BinaryWriter();
  write(writer);
  return writer.finish();
};

describe("field helpers", () => {
  it("skip proto3 defaults but keep optional and message presence", () => {
    const data = encode((writer) => {
      writeString(writer, 1, "");
      writeUint32(writer, 2, 0);
      writeBool(writer, 3, false);
      writeDouble(writer, 4, 0);
      writeDouble(writer, 4, -0);
      writeOptionalString(writer, 5, "");
      writeMessage(writer, 6, () => {});
      writeOptionalString(writer, 7, undefined);
    });
    expect(hex(data)).toBe("2a 00 32 00");
  });

  it("negative int32 takes ten bytes (sign-extended to 64 bits) and decodes back", () => {
    const data = encode((writer) => writeInt32(writer, 1, -1));
    expect(hex(data)).toBe("08 ff ff ff ff ff ff ff ff ff 01");
    let value = 0;
    readMessage(data, { 1: read.int32((decoded) => (value = decoded)) });
    expect(value).toBe(-1);
  });

  it("encode map<string,string> as entry messages in insertion order", () => {
    const data = encode((writer) => writeStringMap(writer, 5, { b: "2", a: "" }));
    // Entry {1: "b", 2: "2"}, then entry {1: "a"} (an empty value is a default, skipped inside the entry).
    expect(hex(data)).toBe("2a 06 0a 01 62 12 01 32 2a 03 0a 01 61");
  });

  it("nest long multi-byte messages with the shortest length prefix", () => {
    for (const text of ["é".repeat(70), "🚀".repeat(40), "日".repeat(50_000), `${"a".repeat(127)}é`]) {
      const data = encode((writer) => {
        writeString(writer, 1, text);
        writeMessage(writer, 2, (inner) => writeString(inner, 1, text));
      });
      const fields: string[] = [];
      readMessage(data, {
        1: read.string((value) => fields.push(value)),
        2: read.bytes((inner) => readMessage(inner, { 1: read.string((value) => fields.push(value)) })),
      });
      expect(fields).toEqual([text, text]);
      const size = (n: number) => (n < 128 ? 1 : n < 16384 ? 2 : 3);
      const utf8 = new TextEncoder().encode(text).length;
      const field = 1 + size(utf8) + utf8;
      expect(data.length).toBe(field + 1 + size(field) + field);
    }
  });
});

describe("reader robustness", () => {
  it("an empty message decodes to defaults", () => {
    expect(decodeAppGetOrCreateResponse(new Uint8Array())).toEqual({ appId: "" });
    expect(decodeSandboxListResponse(new Uint8Array())).toEqual({ sandboxes: [] });
    expect(decodeEnvironmentGetOrCreateResponse(new Uint8Array())).toEqual({
      environmentId: "",
      imageBuilderVersion: "",
    });
  });

  it("skips unknown fields of every wire type, groups included", () => {
    const unknown = new BinaryWriter()
      .tag(9, VARINT)
      .uint64(1n << 60n)
      .tag(10, I64)
      .double(2.5)
      .tag(11, LEN)
      .string("ignored")
      .tag(12, I32)
      .float(1)
      .tag(1, LEN)
      .string("ap-123")
      .tag(13, LEN)
      .fork()
      .tag(1, LEN)
      .string("nested")
      .join()
      .finish();
    // A group (wire types 3/4) around a varint, appended by hand: field 14 start, field 1 varint, field 14 end.
    const withGroup = new Uint8Array([...unknown, 0x73, 0x08, 0x01, 0x74]);
    expect(decodeAppGetOrCreateResponse(withGroup)).toEqual({ appId: "ap-123" });
  });

  it("rejects a known field with the wrong wire type", () => {
    expect(() => decodeAppGetOrCreateResponse(bytes(0x08, 0x05))).toThrow(/wire type 0 where 2/);
  });

  it("rejects bad varints, lengths past the end, field 0, reserved wire types, bad groups and invalid UTF-8", () => {
    const malformed = [
      bytes(0x0a, ...Array(10).fill(0xff), 0x01), // a length varint longer than ten bytes
      bytes(0x10, 0x80, 0x80), // cut short inside an unknown varint
      bytes(0x0a, 0x05, 0x61), // length past the end
      bytes(0x00, 0x01), // field 0
      bytes(0x0e), // wire type 6
      bytes(0x73, 0x08, 0x01), // unterminated group
      bytes(0x73, 0x7c), // group closed with another field number
      bytes(0x74), // end of a group that never started
      bytes(0x0a, 0x02, 0xc3, 0x28), // invalid UTF-8
    ];
    for (const data of malformed) {
      expect(() => decodeAppGetOrCreateResponse(data), hex(data)).toThrow(ProtoDecodeError);
    }
    expect(() => decodeAppGetOrCreateResponse(bytes(0x0a, 0x02, 0xc3, 0x28))).toThrow(/UTF-8/);
  });

  it("keeps strings exact: multi-byte UTF-8 and a leading byte-order mark", () => {
    const text = "\ufeffrunner-é-日本-🚀";
    expect(decodeAppGetOrCreateResponse(encode((writer) => writeString(writer, 1, text))).appId).toBe(text);
  });

  it("readMessage reports each field once, in wire order", () => {
    const seen: string[] = [];
    readMessage(
      encode((writer) => {
        writeString(writer, 3, "c");
        writeString(writer, 1, "a");
        writeString(writer, 3, "d");
      }),
      { 1: read.string((value) => seen.push(value)), 3: read.string((value) => seen.push(value)) },
    );
    expect(seen).toEqual(["c", "a", "d"]);
  });
});

describe("message codecs", () => {
  it("AppGetOrCreateRequest: app_name=1, environment_name=2, object_creation_type=3", () => {
    expect(hex(encodeAppGetOrCreateRequest({ appName: "a", environmentName: "" }))).toBe("0a 01 61 18 01");
    expect(hex(encodeAppGetOrCreateRequest({ appName: "a", environmentName: "ci" }))).toBe(
      "0a 01 61 12 02 63 69 18 01",
    );
  });

  it("ImageJoinStreamingRequest carries timeout as a float (wire type 5)", () => {
    expect(hex(encodeImageJoinStreamingRequest({ imageId: "im", timeoutSeconds: 55, lastEntryId: "" }))).toBe(
      "0a 02 69 6d 15 00 00 5c 42",
    );
  });

  it("decodes stream items and nested results, ignoring task logs", () => {
    const item = encode((writer) => {
      writeMessage(writer, 2, (logs) => writeString(logs, 1, "building…"));
      writeMessage(writer, 1, (result) => {
        writeInt32(result, 1, 2);
        writeString(result, 2, "boom");
        writeInt32(result, 3, -1);
      });
      writeString(writer, 3, "17-0");
      writeBool(writer, 4, true);
    });
    expect(decodeImageJoinStreamingResponse(item)).toEqual({
      result: { status: 2, exception: "boom", exitcode: -1 },
      entryId: "17-0",
      eof: true,
    });
  });

  it("decodes SandboxInfo lists with tags, names and timestamps", () => {
    const list = encode((writer) =>
      writeMessage(writer, 1, (info) => {
        writeString(info, 1, "sb-1");
        writeDouble(info, 3, 1_700_000_000.25);
        writeString(info, 5, "ap-1");
        writeStringMap(info, 6, { job: "42", empty: "" });
        writeString(info, 7, "runner-42");
        writeUint32(info, 11, 3600);
      }),
    );
    expect(decodeSandboxListResponse(list)).toEqual({
      sandboxes: [
        {
          id: "sb-1",
          createdAt: 1_700_000_000.25,
          appId: "ap-1",
          tags: { job: "42", empty: "" },
          name: "runner-42",
        },
      ],
    });
  });

  it("SandboxCreateV2Request puts env in secret_sources only", () => {
    const secret = "jit-config-that-must-stay-in-the-secret-source";
    const data = encodeSandboxCreateV2Request({
      appId: "ap",
      definition: {
        entrypointArgs: ["run"],
        imageId: "im",
        secretIds: [],
        memoryMb: 128,
        milliCpu: 125,
        gpu: undefined,
        timeoutSecs: 60,
        regions: [],
        name: "n",
      },
      tags: {},
      env: { JIT: secret },
    });
    const fields: Array<[number, string]> = [];
    const reader = new BinaryReader(data);
    while (reader.pos < reader.len) {
      const [field] = reader.tag();
      fields.push([field, new TextDecoder().decode(reader.bytes())]);
    }
    expect(fields.map(([field]) => field)).toEqual([1, 2, 6]);
    expect(fields.find(([field]) => field === 2)?.[1]).not.toContain(secret);
    expect(fields.find(([field]) => field === 6)?.[1]).toContain(secret);
  });
});
