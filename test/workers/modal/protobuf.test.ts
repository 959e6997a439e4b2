// The protobuf writer/reader and our message codecs, in workerd. Expected bytes are worked out by hand from the
// protobuf encoding spec (key = field << 3 | wire type; varints little-endian base 128).
import { describe, expect, it } from "vitest";
import {
  decodeAppGetOrCreateResponse,
  decodeEnvironmentGetOrCreateResponse,
  encodeAppGetOrCreateRequest,
} from "../../../src/modal/messages/app.ts";
import {
  decodeImageJoinStreamingResponse,
  encodeImageJoinStreamingRequest,
} from "../../../src/modal/messages/image.ts";
import { encodeSandboxCreateV2Request } from "../../../src/modal/messages/sandbox-create.ts";
import { decodeSandboxListResponse } from "../../../src/modal/messages/sandbox-lifecycle.ts";
import { ProtoDecodeError, ProtoReader, readMessage } from "../../../src/modal/protobuf/reader.ts";
import { ProtoWriter } from "../../../src/modal/protobuf/writer.ts";

const bytes = (...values: number[]) => new Uint8Array(values);
const hex = (data: Uint8Array) => Array.from(data, (byte) => byte.toString(16).padStart(2, "0")).join(" ");

function single<T>(data: Uint8Array, read: (reader: ProtoReader, wireType: number) => T): T {
  const reader = new ProtoReader(data);
  const { wireType } = reader.key();
  const value = read(reader, wireType);
  expect(reader.done).toBe(true);
  return value;
}

describe("varints", () => {
  const cases: Array<[number, string]> = [
    [1, "08 01"],
    [127, "08 7f"],
    [128, "08 80 01"],
    [300, "08 ac 02"],
    [0x7fff_ffff, "08 ff ff ff ff 07"],
    [0xffff_ffff, "08 ff ff ff ff 0f"],
  ];
  for (const [value, expected] of cases) {
    it(`uint32 ${value} encodes as ${expected} and back`, () => {
      const data = new ProtoWriter().uint32(1, value).finish();
      expect(hex(data)).toBe(expected);
      expect(single(data, (reader, wireType) => reader.uint32(wireType))).toBe(value);
    });
  }

  it("negative int32 takes ten bytes (sign-extended to 64 bits) and decodes back", () => {
    const data = new ProtoWriter().int32(1, -1).finish();
    expect(hex(data)).toBe("08 ff ff ff ff ff ff ff ff ff 01");
    expect(single(data, (reader, wireType) => reader.int32(wireType))).toBe(-1);
    const min = new ProtoWriter().int32(1, -0x8000_0000).finish();
    expect(hex(min)).toBe("08 80 80 80 80 f8 ff ff ff ff 01");
    expect(single(min, (reader, wireType) => reader.int32(wireType))).toBe(-0x8000_0000);
  });

  it("64-bit values round trip as bigint, including 2^64-1 and negative int64", () => {
    const max = (1n << 64n) - 1n;
    const data = new ProtoWriter().uint64(1, max).finish();
    expect(hex(data)).toBe("08 ff ff ff ff ff ff ff ff ff 01");
    expect(single(data, (reader, wireType) => reader.uint64(wireType))).toBe(max);
    for (const value of [1n << 53n, (1n << 53n) + 1n, 1n << 63n, 0x1234_5678_9abc_def0n]) {
      expect(single(new ProtoWriter().uint64(1, value).finish(), (r, w) => r.uint64(w))).toBe(value);
    }
    for (const value of [-1n, -(1n << 63n), -(1n << 40n) - 7n]) {
      expect(single(new ProtoWriter().int64(1, value).finish(), (r, w) => r.int64(w))).toBe(value);
    }
  });

  it("uint32 reads the low 32 bits of a longer varint (as protobuf does)", () => {
    const data = new ProtoWriter().uint64(1, (1n << 32n) + 5n).finish();
    expect(single(data, (reader, wireType) => reader.uint32(wireType))).toBe(5);
  });

  it("large field numbers round trip", () => {
    const data = new ProtoWriter().bool(0x1fff_ffff, true).finish();
    expect(new ProtoReader(data).key()).toEqual({ field: 0x1fff_ffff, wireType: 0 });
    expect(hex(new ProtoWriter().uint32(330 >> 3, 1).finish())).toBe("c8 02 01");
  });

  it("rejects varints longer than ten bytes, overflowing 64 bits, or cut short", () => {
    expect(() => single(bytes(0x08, ...Array(10).fill(0xff), 0x01), (r, w) => r.uint64(w))).toThrow(
      ProtoDecodeError,
    );
    expect(() => single(bytes(0x08, ...Array(9).fill(0xff), 0x02), (r, w) => r.uint64(w))).toThrow(
      /overflows/,
    );
    expect(() => single(bytes(0x08, 0x80, 0x80), (r, w) => r.uint32(w))).toThrow(/middle of a varint/);
  });

  it("refuses out-of-range values when writing", () => {
    expect(() => new ProtoWriter().uint32(1, -1)).toThrow(RangeError);
    expect(() => new ProtoWriter().uint32(1, 2 ** 32)).toThrow(RangeError);
    expect(() => new ProtoWriter().int32(1, 2 ** 31)).toThrow(RangeError);
    expect(() => new ProtoWriter().uint64(1, -1n)).toThrow(RangeError);
  });
});

describe("writer semantics", () => {
  it("skips proto3 defaults but keeps optional and message presence", () => {
    const data = new ProtoWriter()
      .string(1, "")
      .uint32(2, 0)
      .bool(3, false)
      .double(4, 0)
      .optionalString(5, "")
      .message(6, () => {})
      .finish();
    expect(hex(data)).toBe("2a 00 32 00");
  });

  it("writes doubles and floats little-endian", () => {
    expect(hex(new ProtoWriter().double(2, 1.5).finish())).toBe("11 00 00 00 00 00 00 f8 3f");
    expect(hex(new ProtoWriter().float(2, 55).finish())).toBe("15 00 00 5c 42");
  });

  it("encodes map<string,string> as entry messages in insertion order", () => {
    const data = new ProtoWriter().stringMap(5, { b: "2", a: "" }).finish();
    // Entry {1: "b", 2: "2"}, then entry {1: "a"} (an empty value is a default, skipped inside the entry).
    expect(hex(data)).toBe("2a 06 0a 01 62 12 01 32 2a 03 0a 01 61");
  });

  it("writes multi-byte strings of every length, with the shortest length prefix", () => {
    for (const text of [
      "é".repeat(70),
      "日本".repeat(30),
      "🚀".repeat(40),
      "日".repeat(50_000),
      `${"a".repeat(127)}é`,
    ]) {
      const data = new ProtoWriter(1)
        .string(1, text)
        .message(2, (inner) => inner.string(1, text))
        .finish();
      const fields: string[] = [];
      readMessage(data, (reader, field, wireType) => {
        if (field === 1) fields.push(reader.string(wireType));
        else
          readMessage(
            reader.bytes(wireType),
            (inner, _field, innerWireType) => fields.push(inner.string(innerWireType)) > 0,
          );
        return true;
      });
      expect(fields).toEqual([text, text]);
      const size = (n: number) => (n < 128 ? 1 : n < 16384 ? 2 : 3);
      const utf8 = new TextEncoder().encode(text).length;
      const field = 1 + size(utf8) + utf8;
      expect(data.length).toBe(field + 1 + size(field) + field);
    }
  });

  it("grows its buffer for large messages", () => {
    const long = "x".repeat(100_000);
    const data = new ProtoWriter(1).string(1, long).finish();
    expect(single(data, (reader, wireType) => reader.string(wireType))).toBe(long);
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
    const unknown = new ProtoWriter()
      .uint64(9, 1n << 60n)
      .double(10, 2.5)
      .string(11, "ignored")
      .float(12, 1)
      .string(1, "ap-123")
      .message(13, (inner) => inner.string(1, "nested"))
      .finish();
    // A group (wire types 3/4) around a varint, appended by hand: field 14 start, field 1 varint, field 14 end.
    const withGroup = new Uint8Array([...unknown, 0x73, 0x08, 0x01, 0x74]);
    expect(decodeAppGetOrCreateResponse(withGroup)).toEqual({ appId: "ap-123" });
  });

  it("rejects a known field with the wrong wire type", () => {
    expect(() => decodeAppGetOrCreateResponse(new ProtoWriter().uint32(1, 5).finish())).toThrow(
      /wire type 0 where 2/,
    );
  });

  it("rejects lengths past the end, field 0, reserved wire types, unterminated groups and invalid UTF-8", () => {
    expect(() => decodeAppGetOrCreateResponse(bytes(0x0a, 0x05, 0x61))).toThrow(/ends in the middle/);
    expect(() => decodeAppGetOrCreateResponse(bytes(0x00, 0x01))).toThrow(/field number 0/);
    expect(() => decodeAppGetOrCreateResponse(bytes(0x0e))).toThrow(/wire type 6/);
    expect(() => decodeAppGetOrCreateResponse(bytes(0x73, 0x08, 0x01))).toThrow(/unterminated group/);
    expect(() => decodeAppGetOrCreateResponse(bytes(0x74))).toThrow(/unexpected wire type 4/);
    expect(() => decodeAppGetOrCreateResponse(bytes(0x0a, 0x02, 0xc3, 0x28))).toThrow(/UTF-8/);
  });

  it("keeps strings exact: multi-byte UTF-8 and a leading byte-order mark", () => {
    const text = "\ufeffrunner-é-日本-🚀";
    expect(decodeAppGetOrCreateResponse(new ProtoWriter().string(1, text).finish()).appId).toBe(text);
  });

  it("readMessage reports each field once, in wire order", () => {
    const seen: number[] = [];
    readMessage(
      new ProtoWriter().string(3, "c").string(1, "a").string(3, "d").finish(),
      (reader, field, wireType) => {
        seen.push(field);
        reader.string(wireType);
        return true;
      },
    );
    expect(seen).toEqual([3, 1, 3]);
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
    const item = new ProtoWriter()
      .message(2, (logs) => logs.string(1, "building…"))
      .message(1, (result) => result.int32(1, 2).string(2, "boom").int32(3, -1))
      .string(3, "17-0")
      .bool(4, true)
      .finish();
    expect(decodeImageJoinStreamingResponse(item)).toEqual({
      result: { status: 2, exception: "boom", exitcode: -1 },
      entryId: "17-0",
      eof: true,
    });
  });

  it("decodes SandboxInfo lists with tags, names and timestamps", () => {
    const list = new ProtoWriter()
      .message(1, (info) =>
        info
          .string(1, "sb-1")
          .double(3, 1_700_000_000.25)
          .string(5, "ap-1")
          .message(6, (tag) => tag.string(1, "job").string(2, "42"))
          .message(6, (tag) => tag.string(1, "empty"))
          .string(7, "runner-42")
          .uint32(11, 3600),
      )
      .finish();
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
    readMessage(data, (reader, field, wireType) => {
      fields.push([field, new TextDecoder().decode(reader.bytes(wireType))]);
      return true;
    });
    expect(fields.map(([field]) => field)).toEqual([1, 2, 6]);
    expect(fields.find(([field]) => field === 2)?.[1]).not.toContain(secret);
    expect(fields.find(([field]) => field === 6)?.[1]).toContain(secret);
  });
});
